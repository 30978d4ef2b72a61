"""A manager assigns work; the annotator's open page shows it within 2 s, without a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer, make_settings, task_body, task_id_of
from tests.web.browsing import LIVE_DEADLINE_MS, add_user, open_route, sign_in, task_row


def annotator_page(server: LiveServer, open_context: Callable[..., BrowserContext]) -> Page:
    """smq's own window, open on 我的任务 with the live stream connected."""
    context = open_context(server)
    sign_in(context, "smq")
    page = context.new_page()
    open_route(page, "mine")
    expect(page.get_by_text("你还没有任务")).to_be_visible()
    return page


def test_assign_one_task_to_an_annotator(
    server: LiveServer, open_context: Callable[..., BrowserContext], page: Page
) -> None:
    add_user(server, "wangfang", "manager")
    add_user(server, "smq", group="team-a")
    server.publish("taskRegister", [task_body("assign_me_01"), task_body("leave_me_02")])
    watcher = annotator_page(server, open_context)

    sign_in(page.context, "wangfang")
    open_route(page, "all")
    task_row(page, "assign_me_01").get_by_role("checkbox").check()
    page.get_by_role("button", name="指派所选 (1)").click()
    dialog = page.get_by_role("dialog", name="指派任务")
    expect(dialog).to_contain_text("所选的 1 个任务")
    dialog.get_by_label("领取人").select_option("smq")
    expect(dialog.get_by_role("status")).to_contain_text("1 个任务 → smq")
    dialog.get_by_role("button", name="确认指派").click()
    expect(page.get_by_role("status").filter(has_text="已指派 1 个任务")).to_be_visible()
    expect(task_row(page, "assign_me_01")).to_contain_text("smq")

    expect(task_row(watcher, "assign_me_01")).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(task_row(watcher, "assign_me_01")).to_contain_text("已领取")
    expect(task_row(watcher, "leave_me_02")).to_have_count(0)


def test_assign_every_task_matching_a_filter_over_a_group(
    server: LiveServer, open_context: Callable[..., BrowserContext], page: Page
) -> None:
    add_user(server, "wangfang", "manager")
    add_user(server, "smq", group="team-a")
    add_user(server, "lixin", group="team-a")
    videos = [
        task_body(f"video_{i:02d}", task_type="vidEdit", created=1596000000 + i) for i in range(4)
    ]
    server.publish("taskRegister", [*videos, task_body("satellite_01")])
    watcher = annotator_page(server, open_context)

    sign_in(page.context, "wangfang")
    open_route(page, "all")
    page.get_by_label("类型").fill("vidEdit")
    page.get_by_label("类型").press("Enter")
    expect(page).to_have_url(f"{server.url}/#/all?type=vidEdit")
    expect(task_row(page, "satellite_01")).to_have_count(0)
    page.get_by_role("button", name="指派全部匹配项").click()
    dialog = page.get_by_role("dialog", name="指派任务")
    expect(dialog).to_contain_text("共 4 个任务")
    dialog.get_by_label("在组内分配").check()
    dialog.locator("#assign-spread-group").select_option("team-a")
    preview = dialog.get_by_role("status")
    expect(preview).to_contain_text("2 → lixin")
    expect(preview).to_contain_text("2 → smq")
    dialog.get_by_role("button", name="确认指派").click()
    expect(page.get_by_role("status").filter(has_text="已指派 4 个任务")).to_be_visible()

    # Round robin over [lixin, smq] in the filter's order (oldest first): smq gets 01 and 03.
    expect(watcher.locator("tbody tr")).to_have_count(2, timeout=LIVE_DEADLINE_MS)
    expect(task_row(watcher, "video_01")).to_contain_text("已领取")
    expect(task_row(watcher, "video_03")).to_be_visible()

    # Undo puts everything back.
    page.get_by_role("button", name="撤销").click()
    expect(page.get_by_role("status").filter(has_text="已撤销上次指派")).to_be_visible()
    expect(watcher.get_by_text("你还没有任务")).to_be_visible(timeout=LIVE_DEADLINE_MS)


def test_assigning_beyond_the_claim_limit_asks_for_an_explicit_override(
    tmp_path: Path, open_context: Callable[..., BrowserContext]
) -> None:
    server = LiveServer(make_settings(tmp_path, max_claims_per_user=1)).start()
    try:
        add_user(server, "wangfang", "manager")
        add_user(server, "smq")
        server.publish("taskRegister", [task_body("first_01"), task_body("second_02")])
        page = open_context(server).new_page()
        sign_in(page.context, "wangfang")
        open_route(page, "all")
        for name in ("first_01", "second_02"):
            task_row(page, name).get_by_role("checkbox").check()
        page.get_by_role("button", name="指派所选 (2)").click()
        dialog = page.get_by_role("dialog", name="指派任务")
        dialog.get_by_label("领取人").select_option("smq")
        dialog.get_by_role("button", name="确认指派").click()
        expect(dialog.get_by_role("alert")).to_contain_text("已达到领取上限")
        expect(task_row(page, "first_01")).not_to_contain_text("smq")
        dialog.get_by_role("button", name="超出领取上限，仍然指派").click()
        expect(page.get_by_role("status").filter(has_text="已指派 2 个任务")).to_be_visible()
        expect(task_row(page, "second_02")).to_contain_text("smq")
    finally:
        server.stop()


def test_the_preview_is_the_servers_plan_by_its_finished_statuses(
    tmp_path: Path, open_context: Callable[..., BrowserContext]
) -> None:
    """已交付 is a finished status on this server: smq's two such tasks are no load, so
    least_loaded gives each member one (counting them as load would give lixin both)."""
    server = LiveServer(make_settings(tmp_path, finished_statuses=["已完成", "已交付"])).start()
    try:
        add_user(server, "wangfang", "manager")
        add_user(server, "smq", group="team-a")
        add_user(server, "lixin", group="team-a")
        delivered = [task_body(f"delivered_{i}", created=1596000000 + i) for i in range(2)]
        fresh = [task_body(f"fresh_{i}", created=1596100000 + i) for i in range(2)]
        server.publish("taskRegister", [*delivered, *fresh])
        given = server.login("wangfang").post(
            "/api/v1/tasks/assign", json={"ids": [task_id_of(b) for b in delivered], "user": "smq"}
        )
        assert given.status_code == 200, given.text
        server.publish("updateStatus", [{**body, "Status": "已交付"} for body in delivered])

        page = open_context(server).new_page()
        sign_in(page.context, "wangfang")
        open_route(page, "all")
        expect(task_row(page, "delivered_0").locator(".badge-finished")).to_have_text("已交付")
        for name in ("fresh_0", "fresh_1"):
            task_row(page, name).get_by_role("checkbox").check()
        page.get_by_role("button", name="指派所选 (2)").click()
        dialog = page.get_by_role("dialog", name="指派任务")
        dialog.get_by_label("在组内分配").check()
        dialog.locator("#assign-spread-group").select_option("team-a")
        dialog.get_by_label("策略").select_option("least_loaded")
        preview = dialog.get_by_role("status")
        expect(preview).to_contain_text("1 → lixin （当前 0 个未完成）")
        expect(preview).to_contain_text("1 → smq （当前 0 个未完成）")
        dialog.get_by_role("button", name="确认指派").click()
        expect(page.get_by_role("status").filter(has_text="已指派 2 个任务")).to_be_visible()
        for name in ("smq", "lixin"):
            expect(task_row(page, "fresh_").filter(has_text=name)).to_have_count(1)
    finally:
        server.stop()
