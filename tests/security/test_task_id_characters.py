"""Task IDs that a URL path cannot carry are refused at ingest; every other one works everywhere.

Issue 10 item 13: an ID with `/` was stored but could not be opened, and the page blamed the
network. Now such an ID (and `\\`, `?`, `#`, `%`, whitespace, controls, invisible characters,
`.` and `..`) is dead-lettered with a reason naming the field and the character; the IDs still
allowed are claimed, released and opened through REST and in the browser.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support import LiveServer, ThreadedApp, task_body, wait_until
from tests.web.browsing import CHROMIUM_ARGS, add_user, open_route, sign_in, task_row
from tests.web.conftest import console, context, open_context, page  # noqa: F401

REFUSED = {
    "a/b": "'/' (U+002F SOLIDUS) at character 2",
    "a\\b": "U+005C REVERSE SOLIDUS",
    "why?not": "U+003F QUESTION MARK",
    "tag#1": "U+0023 NUMBER SIGN",
    "a%2Fb": "U+0025 PERCENT SIGN",
    "two words": "U+0020 SPACE",
    "tab\there": "U+0009",
    "nul\x00": "U+0000",
    "ann1\u200b": "U+200B ZERO WIDTH SPACE",
    "\u202eevil": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "..": "'..' cannot be a task ID",
    ".": "'.' cannot be a task ID",
}
ALLOWED = ["a+b", "x&y=1;z:2", "任务-0001", "🎉👩\u200d💻", "x..y", ".hidden", "~!$'()*,@"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for this module only: Playwright's loop must not outlive it, since the tests
    after it run asyncio.run on this thread."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("install chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def path_of(task_id: str) -> str:
    return f"/api/v1/tasks/{quote(task_id, safe='')}"


def admin(server: LiveServer) -> httpx.Client:
    server.add_user("root", "admin")
    return server.login("root")


def dead_letters(root: httpx.Client) -> list[dict[str, Any]]:
    answer = root.get("/api/v1/dead-letters", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_ids_a_url_cannot_carry_are_dead_lettered_with_the_reason(server: LiveServer) -> None:
    bodies = [task_body(f"t{n}", given_id=task_id) for n, task_id in enumerate(REFUSED)]
    server.publish("taskRegister", bodies)
    server.publish("updateStatus", [task_body("t-upd", given_id="up/date", status="编辑中")])
    root = admin(server)
    letters = dead_letters(root)
    reasons = sorted(letter["reason"] for letter in letters)
    assert len(reasons) == len(REFUSED) + 1
    for named in REFUSED.values():
        assert any(r.startswith("field ID: ") and named in r for r in reasons), (named, reasons)
    assert all("not allowed in a task ID" in r or "cannot be a task ID" in r for r in reasons)
    assert {letter["topic"] for letter in letters} == {"taskRegister", "updateStatus"}
    assert root.get("/api/v1/tasks").json()["items"] == []


def test_a_metadata_record_with_such_an_id_is_dead_lettered_too(server: LiveServer) -> None:
    records = [
        {**task_body("m1", given_id="meta/1"), "Reserved": ""},
        {**task_body("m2", given_id="meta+2"), "Reserved": ""},
    ]
    service = FastAPI()

    @service.get("/TaskDash/taskMetadata")
    def metadata() -> list[dict[str, Any]]:
        return records

    root = admin(server)
    with ThreadedApp(service) as app:
        base = f"{app.url}/TaskDash/"
        server.publish("serviceRegister", [{"URL": base, "Name": "satEdit"}])
        server.publish("heartBeat", [{"url": base, "time": int(time.time())}])
        wait_until(lambda: root.get(path_of("meta+2")).status_code == 200)
    [letter] = dead_letters(root)
    assert letter["topic"].startswith(f"metadata:{app.url}")
    assert letter["reason"].startswith("field ID: '/' (U+002F SOLIDUS)")


def test_odd_but_allowed_ids_are_claimed_released_and_opened(server: LiveServer) -> None:
    server.publish("taskRegister", [task_body(f"t{n}", given_id=i) for n, i in enumerate(ALLOWED)])
    server.add_user("smq")
    smq = server.login("smq")
    for task_id in ALLOWED:
        opened = smq.get(path_of(task_id))
        assert opened.status_code == 200, (task_id, opened.text)
        assert opened.json()["task"]["ID"] == task_id
        claimed = smq.post(f"{path_of(task_id)}/claim")
        assert claimed.status_code == 200, (task_id, claimed.text)
        assert (claimed.json()["ID"], claimed.json()["User"]) == (task_id, "smq")
        released = smq.post(f"{path_of(task_id)}/release")
        assert released.status_code == 200, (task_id, released.text)
        history = smq.get(path_of(task_id)).json()["history"]
        assert [event["action"] for event in history][:2] == ["release", "claim"]


def test_the_detail_page_opens_a_task_with_an_odd_id(
    server: LiveServer,
    context: BrowserContext,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    odd = "a+b&c=d;e:任务🎉"
    add_user(server, "smq")
    server.publish("taskRegister", [task_body(odd, given_id=odd)])
    sign_in(context, "smq")
    open_route(page, "available")
    task_row(page, odd).get_by_role("link").click()
    expect(page.get_by_role("heading", name=odd)).to_be_visible()
    page.get_by_role("button", name="领取").click()
    expect(page.locator("dl.fields")).to_contain_text("已领取")
    # Opened again from its address, as a bookmark would.
    page.reload()
    expect(page.get_by_role("heading", name=odd)).to_be_visible()


def test_the_detail_page_says_not_found_rather_than_blaming_the_network(
    server: LiveServer,
    context: BrowserContext,  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    add_user(server, "smq")
    server.publish("taskRegister", [task_body("slashed", given_id="a/b")])
    sign_in(context, "smq")
    page.goto(f"/#/task/{quote('a/b', safe='')}")
    expect(page.get_by_text("找不到这个任务")).to_be_visible()
    expect(page.get_by_text("请检查网络")).to_have_count(0)
