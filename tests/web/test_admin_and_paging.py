"""Admins manage accounts; long lists come a page at a time (keyset cursors)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer, task_body
from tests.web.browsing import add_user, off_loop, open_route, sign_in

NEW_PASSWORD = "a new long password"


def test_an_admin_adds_and_disables_a_user(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "root", "admin")
    sign_in(context, "root")
    open_route(page, "users")
    form = page.locator("form.user-form")
    form.get_by_label("用户名").fill("newbie")
    form.get_by_label("角色").select_option("checker")
    form.get_by_label("组").fill("team-c")
    form.get_by_label("初始密码").fill(NEW_PASSWORD)
    form.get_by_role("button", name="添加用户").click()
    expect(page.get_by_role("status").filter(has_text="已添加用户 newbie")).to_be_visible()
    expect(form.get_by_label("初始密码")).to_have_value("")
    row = page.locator("tbody tr").filter(has_text="newbie")
    expect(row).to_contain_text("校验员")
    expect(row).to_contain_text("team-c")
    credentials = {"username": "newbie", "password": NEW_PASSWORD}
    assert server.client().post("/api/v1/login", json=credentials).is_success

    row.get_by_role("button", name="停用 newbie").click()
    expect(row).to_contain_text("已停用")
    assert server.client().post("/api/v1/login", json=credentials).status_code == 401

    # A name that is taken: the server's message is shown next to the form.
    form.get_by_label("用户名").fill("newbie")
    form.get_by_label("初始密码").fill(NEW_PASSWORD)
    form.get_by_role("button", name="添加用户").click()
    expect(form.get_by_role("alert")).not_to_be_empty()


def test_annotators_do_not_see_manager_pages(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    sign_in(context, "smq")
    open_route(page, "available")
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link")).to_have_text(["可领取", "我的任务", "概览", "服务"])
    open_route(page, "users")
    expect(page.get_by_text("权限不足")).to_be_visible()


def test_long_lists_load_a_page_at_a_time(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "smq")
    server.publish(
        "taskRegister", [task_body(f"bulk_{i:03d}", created=1596000000 + i) for i in range(60)]
    )
    sign_in(context, "smq")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/tasks?" in r.url else None)
    open_route(page, "available")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(page.get_by_text("已显示 50 条")).to_be_visible()
    page.get_by_role("button", name="加载更多").click()
    expect(rows).to_have_count(60)
    expect(page.get_by_text("共 60 条")).to_be_visible()
    expect(page.get_by_role("button", name="加载更多")).to_be_hidden()
    assert "cursor=" in requests[-1] and "limit=50" in requests[-1]

    # Sorting by creation time lives in the URL.
    page.get_by_role("button", name="创建").click()
    expect(page).to_have_url(f"{server.url}/#/available?order=newest")
    expect(rows.first).to_contain_text("bulk_059")


def test_a_dead_letter_shows_its_size_and_that_only_its_start_is_kept(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "root", "admin")
    big = b"not json " + b"x" * (1024 * 1024 - 9)
    assert off_loop(server.pub, "taskRegister", big).text == "OK"
    assert off_loop(server.pub, "heartBeat", b"[]").text == "OK"
    sign_in(context, "root")
    open_route(page, "dead-letters")
    big_row = page.locator("tbody tr").filter(has_text="taskRegister")
    expect(big_row.locator("td.col-size")).to_have_text("1 MiB 已截断")
    small_row = page.locator("tbody tr").filter(has_text="heartBeat")
    expect(small_row.locator("td.col-size")).to_have_text("2 字节")
