"""Signing in, and the language choice that follows the user."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import PASSWORD, LiveServer, task_body
from tests.web.browsing import add_user, open_route, sign_in


def fill_login(page: Page, name: str, password: str) -> None:
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_wrong_password_shows_the_servers_message(server: LiveServer, page: Page) -> None:
    add_user(server, "smq")
    page.goto("/")
    fill_login(page, "smq", "not the password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    expect(page.get_by_label("密码")).to_have_value("")
    expect(page).to_have_url(f"{server.url}/#/login")


def test_right_password_lands_on_available_tasks(server: LiveServer, page: Page) -> None:
    add_user(server, "smq")
    server.publish("taskRegister", [task_body("0210232_1220_1222_020")])
    page.goto("/")
    fill_login(page, "smq", PASSWORD)
    expect(page).to_have_url(f"{server.url}/#/available")
    expect(page.get_by_role("heading", name="可领取任务")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="0210232_1220_1222_020")).to_be_visible()
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "open")


def test_english_is_remembered_for_the_user(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    server.publish("taskRegister", [task_body("0001")])
    sign_in(context, "smq")
    open_route(page, "available")
    expect(page.get_by_role("cell", name="待领取", exact=True)).to_be_visible()
    page.get_by_role("button", name="切换到英文").click()
    expect(page.get_by_role("heading", name="Available tasks")).to_be_visible()
    expect(page.get_by_text("待领取 (unclaimed)")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Available tasks")).to_be_visible()
    # Signing out and in again (the choice lives on the server, not in this browser).
    page.get_by_role("button", name="Sign out").click()
    context.clear_cookies()
    page.evaluate("localStorage.clear()")
    page.reload()
    fill_login(page, "smq", PASSWORD)
    expect(page.get_by_role("heading", name="Available tasks")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_page_keeps_no_password_and_cannot_read_the_session(
    server: LiveServer, page: Page
) -> None:
    add_user(server, "smq")
    page.goto("/")
    fill_login(page, "smq", PASSWORD)
    expect(page.get_by_role("heading", name="可领取任务")).to_be_visible()
    kept = page.evaluate(
        "JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage},"
        " [...document.querySelectorAll('input')].map((i) => i.value)])"
    )
    assert PASSWORD not in kept
    assert "taskdash_session" not in kept  # HttpOnly: script never sees the cookie
