"""The task lists' tools: the total, sorting by column headers, filter suggestions from the
server, and the CSV download of the current filters, in Chinese and in English."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer, task_body
from tests.web.browsing import add_user, off_loop, open_route, sign_in

STATUSES = ("编辑中", "已完成", "待检查")


def publish(server: LiveServer, n: int = 60) -> None:
    """`n` tasks in three projects, the later ones in other statuses than 待领取."""
    bodies = [
        task_body(f"row_{i:03d}", project=f"proj-{i % 3}", created=1596000000 + i) for i in range(n)
    ]
    server.publish("taskRegister", bodies)
    server.publish(
        "updateStatus", [{**b, "Status": STATUSES[i % 3]} for i, b in enumerate(bodies) if i >= 40]
    )


def manager_on_all_tasks(server: LiveServer, context: BrowserContext, page: Page) -> None:
    add_user(server, "boss", "manager")
    off_loop(publish, server)
    sign_in(context, "boss")
    open_route(page, "all")


def test_the_list_shows_its_total(server: LiveServer, context: BrowserContext, page: Page) -> None:
    manager_on_all_tasks(server, context, page)
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.locator(".list-count")).to_have_text("已显示 50 条，共 60 条")
    page.get_by_label("状态").select_option("已完成")
    expect(page.locator(".list-count")).to_have_text("共 7 条")
    page.get_by_role("button", name="加载更多").wait_for(state="hidden")


def test_column_headers_sort_the_list_and_the_order_is_in_the_url(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    manager_on_all_tasks(server, context, page)
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("row_059")  # newest CreateTime first

    status = page.get_by_role("columnheader", name="状态")
    status.get_by_role("button").click()
    expect(page).to_have_url(f"{server.url}/#/all?sort=status&order=oldest")
    expect(status).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_role("columnheader", name="创建")).to_have_attribute("aria-sort", "none")
    expect(rows.first).to_contain_text("已完成")  # 已完成 < 待检查 < 待领取 < 编辑中
    expect(rows.first).to_contain_text("row_040")  # then by CreateTime

    status.get_by_role("button").click()
    expect(page).to_have_url(f"{server.url}/#/all?sort=status")
    expect(status).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_contain_text("编辑中")
    expect(rows.first).to_contain_text("row_057")

    page.get_by_role("columnheader", name="更新于").get_by_role("button").click()
    expect(page).to_have_url(f"{server.url}/#/all?sort=UpdatedAt")
    page.reload()  # the order is the URL's
    expect(page.get_by_role("columnheader", name="更新于")).to_have_attribute(
        "aria-sort", "descending"
    )
    page.get_by_role("button", name="加载更多").click()
    expect(rows).to_have_count(60)


def test_filter_inputs_suggest_what_the_server_knows(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "boss", "manager")
    # Projects of tasks beyond the first page too: only the server knows them all.
    bodies = [
        task_body(f"s{i:03d}", project="early" if i < 5 else "late", created=1596000000 + i)
        for i in range(80)
    ]
    off_loop(server.publish, "taskRegister", bodies)
    sign_in(context, "boss")
    open_route(page, "all")
    options = page.locator("datalist#f-all-project-options option")
    expect(options).to_have_count(2)
    assert [o.get_attribute("value") for o in options.all()] == ["early", "late"]
    expect(page.locator("datalist#f-all-type-options option")).to_have_count(1)


def test_the_download_button_gives_the_csv_of_the_current_filters(
    server: LiveServer, context: BrowserContext, page: Page, tmp_path: Path
) -> None:
    manager_on_all_tasks(server, context, page)
    page.get_by_label("项目").fill("proj-1")
    page.get_by_label("项目").press("Enter")
    expect(page.locator(".list-count")).to_have_text("共 20 条")
    shown = [row.get_attribute("data-id") for row in page.locator("tbody tr").all()]
    link = page.get_by_role("link", name="下载 CSV")
    expect(link).to_have_attribute("href", "/api/v1/tasks/export.csv?project=proj-1&order=newest")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "tasks.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("tasks-")
    raw = saved.read_bytes()
    assert raw.startswith("\ufeff".encode())
    header, *rows = csv.reader(io.StringIO(raw.decode()[1:], newline=""))
    assert header[0] == "ID" and [row[0] for row in rows] == shown


def test_the_tools_speak_english(server: LiveServer, context: BrowserContext, page: Page) -> None:
    manager_on_all_tasks(server, context, page)
    assert context.request.patch("/api/v1/me", data={"lang": "en"}).ok
    page.reload()
    page.locator("#live-indicator[data-state='open']").wait_for()
    expect(page.locator(".list-count")).to_have_text("Showing 50 of 60")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    header = page.get_by_role("columnheader", name="Status").get_by_role("button")
    expect(header).to_have_attribute("title", "Sort by Status (click)")
