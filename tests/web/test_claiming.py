"""An annotator claims from a row and with 领取下一个, sees it under 我的任务, releases it."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer, task_body
from tests.web.browsing import add_user, open_route, sign_in, task_row


def test_claim_a_row_claim_next_then_release(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    server.publish(
        "taskRegister",
        [
            task_body("oldest_0001", created=1596000001),
            task_body("middle_0002", created=1596000002),
            task_body("newest_0003", created=1596000003, task_type="vidEdit"),
        ],
    )
    sign_in(context, "smq")
    open_route(page, "available")

    task_row(page, "middle_0002").get_by_role("button", name="领取").click()
    expect(page.get_by_role("status").filter(has_text="已领取 middle_0002")).to_be_visible()
    expect(task_row(page, "middle_0002")).to_have_count(0)

    page.get_by_role("button", name="领取下一个").click()  # the oldest claimable one
    expect(page.get_by_role("status").filter(has_text="已领取 oldest_0001")).to_be_visible()
    expect(task_row(page, "oldest_0001")).to_have_count(0)
    expect(task_row(page, "newest_0003")).to_be_visible()

    page.get_by_role("link", name="我的任务").click()
    mine = task_row(page, "middle_0002")
    expect(mine).to_contain_text("已领取")
    expect(task_row(page, "oldest_0001")).to_be_visible()
    editor = mine.get_by_role("link", name="打开")
    expect(editor).to_have_attribute("href", "http://127.0.0.1:18081/")
    expect(editor).to_have_attribute("target", "_blank")
    expect(editor).to_have_attribute("rel", "noopener noreferrer")

    mine.get_by_role("button", name="释放 middle_0002").click()
    expect(task_row(page, "middle_0002")).to_have_count(0)
    page.get_by_role("link", name="可领取").click()
    expect(task_row(page, "middle_0002")).to_contain_text("待领取")


def test_a_refused_claim_shows_the_servers_message(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    add_user(server, "lixin")
    server.publish("taskRegister", [task_body("contested_01")])
    sign_in(context, "smq")
    # A stream that hears nothing: the live removal of the taken row would otherwise race the
    # click below (this test is about the answer to a claim that lost).
    context.route(
        "**/api/v1/events",
        lambda route: route.fulfill(
            status=200, content_type="text/event-stream", body="retry: 60000\n: connected\n\n"
        ),
    )
    page.goto("/#/available")
    button = task_row(page, "contested_01").get_by_role("button", name="领取")
    expect(button).to_be_enabled()
    # Someone else wins the race before this click reaches the server.
    other = server.login("lixin")
    assert other.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
    button.click()
    expect(page.get_by_role("alert").filter(has_text="任务不可领取")).to_be_visible()
    expect(task_row(page, "contested_01")).to_have_count(0)


def test_keyboard_moves_claims_and_opens_help(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    server.publish(
        "taskRegister",
        [task_body("first_0001", created=1596000001), task_body("second_0002", created=1596000002)],
    )
    sign_in(context, "smq")
    open_route(page, "available")
    expect(task_row(page, "second_0002")).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(task_row(page, "second_0002")).to_be_focused()
    page.keyboard.press("c")
    expect(page.get_by_role("status").filter(has_text="已领取 second_0002")).to_be_visible()
    page.keyboard.press("n")
    expect(page.get_by_role("status").filter(has_text="已领取 first_0001")).to_be_visible()
    expect(page.get_by_text("暂无可领取任务")).to_be_visible()
    page.keyboard.press("/")
    expect(page.get_by_label("类型")).to_be_focused()
    page.get_by_label("类型").press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="键盘快捷键")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
