"""Markup in any task field is shown as text and runs nothing, in lists and on the detail page."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer, task_body, task_id_of
from tests.web.browsing import add_user, open_route, sign_in, task_row

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "</script><script>window.__xss=1</script>"
QUOTES = '"\' onmouseover="window.__xss=1" x=\''
HOSTILE = task_body(
    f"{IMG}task",
    task_type=f"{SCRIPT}type",
    project=f"{QUOTES}project",
    instance=f"{IMG}instance",
    url=f'http://127.0.0.1:18081/edit?q="><script>window.__xss=1</script>{IMG}',
    EditInfo=f"{SCRIPT}{QUOTES}",
)


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0


def test_markup_in_task_fields_is_shown_as_text(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "wangfang", "manager")
    server.publish("taskRegister", [HOSTILE])
    server.publish("updateStatus", [{**HOSTILE, "Status": f"{IMG}status"}])
    sign_in(context, "wangfang")

    open_route(page, "all")
    row = task_row(page, f"{IMG}task")
    for text in (f"{IMG}task", f"{SCRIPT}type", f"{QUOTES}project", f"{IMG}status"):
        expect(row.get_by_text(text, exact=False)).to_be_visible()
    row.hover()
    assert_nothing_ran(page)

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"{IMG}task")).to_be_visible()
    details = page.locator("dl.fields")
    for text in (f"{IMG}instance", HOSTILE["URL"], f"{SCRIPT}{QUOTES}"):
        expect(details.get_by_text(text, exact=True)).to_be_visible()
    # The link's href is the URL as the browser parses it: the markup stays percent-encoded.
    expect(page.get_by_role("link", name="打开")).to_have_attribute(
        "href", re.compile(r"^http://127\.0\.0\.1:18081/edit\?q=%22%3E%3Cscript%3E")
    )
    assert_nothing_ran(page)
    assert task_id_of(HOSTILE) in page.url


def test_only_http_urls_become_links(server: LiveServer, page: Page) -> None:
    # The server refuses other task URLs; the page checks again before making a link.
    page.goto("/")
    verdicts = page.evaluate(
        """async () => {
            const { safeHttpUrl } = await import("/static/dom.js");
            return ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x",
                    "//evil.example/x", "/relative", "https://ok.example/a?b=1",
                    "http://127.0.0.1:8081/"].map((url) => safeHttpUrl(url));
        }"""
    )
    assert verdicts == [None] * 5 + ["https://ok.example/a?b=1", "http://127.0.0.1:8081/"]


def test_markup_in_the_available_list_and_filters(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    server.publish("taskRegister", [HOSTILE])
    sign_in(context, "smq")
    open_route(page, f"available?type={SCRIPT}type")
    expect(page.get_by_label("类型")).to_have_value(f"{SCRIPT}type")
    expect(task_row(page, f"{IMG}task")).to_be_visible()
    task_row(page, f"{IMG}task").get_by_role("button", name="领取").click()
    expect(page.get_by_role("status").filter(has_text=f"已领取 {IMG}task")).to_be_visible()
    open_route(page, "mine")
    expect(task_row(page, f"{IMG}task")).to_contain_text("已领取")
    expect(task_row(page, f"{IMG}task").get_by_role("link", name="打开")).to_have_attribute(
        "rel", "noopener noreferrer"
    )
    assert_nothing_ran(page)
