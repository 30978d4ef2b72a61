"""A task published while the page is open appears within 2 s, highlighted, without a reload."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.servers import Nsqd
from tests.support import PASSWORD, LiveServer, task_body, task_id_of
from tests.web.browsing import LIVE_DEADLINE_MS, add_user, open_route, sign_in, task_row


def watch_available(server: LiveServer, context: BrowserContext, page: Page) -> None:
    add_user(server, "smq")
    sign_in(context, "smq")
    open_route(page, "available")
    expect(page.get_by_text("暂无可领取任务")).to_be_visible()
    page.evaluate("window.__loaded = true")  # gone if the page reloads


def assert_arrived_live(page: Page, task_id: str) -> None:
    row = task_row(page, task_id)
    expect(row).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(row).to_have_class("is-new")
    assert page.evaluate("window.__loaded") is True


def test_a_task_from_http_ingest_appears(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    watch_available(server, context, page)
    server.publish("taskRegister", [task_body("20240612_live_http")])
    assert_arrived_live(page, "20240612_live_http")


def test_a_task_from_nsq_appears(
    nsqd: Nsqd, nsq_server: LiveServer, open_context: Callable[..., BrowserContext]
) -> None:
    context = open_context(nsq_server)
    page = context.new_page()
    watch_available(nsq_server, context, page)
    body = task_body("20240612_live_nsq", task_type="vidEdit")
    nsqd.pub("taskRegister", json.dumps(body, ensure_ascii=False).encode())
    assert_arrived_live(page, "20240612_live_nsq")


def test_the_indicator_shows_a_dropped_stream_and_recovers(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    watch_available(server, context, page)
    indicator = page.locator("#live-indicator")
    server.stop()
    expect(indicator).to_have_attribute("data-state", "down")
    expect(indicator).to_contain_text("实时更新已断开")
    server.start()  # same port, same store: the browser reconnects by itself
    expect(indicator).to_have_attribute("data-state", "open")
    server.publish("taskRegister", [task_body("20240612_after_reconnect")])
    assert_arrived_live(page, "20240612_after_reconnect")


def test_a_task_claimed_by_someone_else_leaves_the_list_live(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    watch_available(server, context, page)
    server.publish("taskRegister", [task_body("20240612_taken_live")])
    assert_arrived_live(page, "20240612_taken_live")
    add_user(server, "other")
    other = server.client()
    assert other.post("/api/v1/login", json={"username": "other", "password": PASSWORD}).is_success
    claimed = other.post(f"/api/v1/tasks/{task_id_of(task_body('20240612_taken_live'))}/claim")
    assert claimed.status_code == 200, claimed.text
    # The watcher hears only `event: remove` with the id: the row goes without a reload.
    expect(task_row(page, "20240612_taken_live")).to_have_count(0, timeout=LIVE_DEADLINE_MS)
    expect(page.get_by_text("暂无可领取任务")).to_be_visible()
    assert page.evaluate("window.__loaded") is True
