"""The overview page on real data: every panel shows the numbers the stats API gave it, its
counts lead to the right filtered lists, the period and filters live in the URL, and a live
event changes a number without a reload."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer, task_body
from tests.web.browsing import LIVE_DEADLINE_MS, add_user, sign_in
from tests.web.conftest import Sample
from tests.web.overview_page import (
    PANELS,
    StatsAnswers,
    numbers,
    open_overview,
    panel,
    wait_for_panels,
)

LIVE_REFETCH_MS = LIVE_DEADLINE_MS + 3000  # the page debounces a burst of events (≤ 3 s)
EXPECT_TIMEOUT_MS = 5000  # Playwright's default for expect()


def manager_page(sample: Sample, open_context: Callable[..., BrowserContext]) -> Page:
    context = open_context(sample.server)
    sign_in(context, "admin")
    return context.new_page()


def finished_statuses(page: Page) -> set[str]:
    answer = page.request.get("/api/v1/settings/ui")
    assert answer.ok
    return set(answer.json()["finished_statuses"])


def check_projects(page: Page, rows: list[dict[str, Any]]) -> None:
    body = panel(page, "projects")
    expect(body.locator("tbody tr")).to_have_count(len(rows))
    finished = finished_statuses(page)
    for row in rows:
        tr = body.locator(f"tr[data-project='{row['project']}'][data-type='{row['type']}']")
        expect(tr.locator("[data-stat=total]")).to_have_text(str(row["total"]))
        expect(tr.locator("[data-stat=unclaimed]")).to_have_text(str(row["unclaimed"]))
        shown = {
            link.get_attribute("data-status"): numbers([link.locator(".num").inner_text()])[0]
            for link in tr.locator("a.status-count").all()
        }
        assert shown == {s: n for s, n in row["by_status"].items() if n}
        done = sum(n for s, n in row["by_status"].items() if s in finished)
        expect(tr.locator("[data-stat=finished]")).to_have_text(
            f"{done * 100 // row['total']}%" if row["total"] else "—"
        )
        bar = [int(t) for t in tr.locator("svg text.seg-text").all_text_contents()]
        assert all(n in shown.values() for n in bar)
        if row["unclaimed_oldest_at"] is None:
            expect(tr.locator("[data-stat=oldest]")).to_have_text("—")
        else:
            oldest = tr.locator("[data-stat=oldest] time")
            assert float(oldest.get_attribute("data-ts") or 0) == row["unclaimed_oldest_at"]


def check_throughput(page: Page, data: dict[str, Any]) -> None:
    body = panel(page, "throughput")
    for key in ("created", "claimed", "finished"):
        total = sum(b[key] for b in data["buckets"])
        legend = body.locator(f".chart-legend li[data-series={key}] .legend-value")
        expect(legend).to_have_text(str(total))
    table_rows = body.locator("table.chart-table tbody tr")
    expect(table_rows).to_have_count(len(data["buckets"]))
    shown = [
        numbers(row.split("\t")[1:])
        for row in body.locator("table.chart-table tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent).join('\\t'))"
        )
    ]
    keys = ("created", "claimed", "finished", "unclaimed")
    assert shown == [[b[k] for k in keys] for b in data["buckets"]]
    assert body.locator("svg polyline.line").count() == 4


def check_people(page: Page, data: dict[str, Any]) -> None:
    body = panel(page, "people")
    tables = (("people", data["people"], "user"), ("groups", data["groups"], "group"))
    for table, rows, key in tables:
        for row in rows:
            tr = body.locator(f"table[data-table={table}] tr[data-key='{row[key]}']")
            for stat in ("holding", "finished", "releases", "expiries"):
                expect(tr.locator(f"[data-stat={stat}]")).to_have_text(str(row[stat]))
            median = tr.locator("[data-stat=median_claim_to_finish_s]")
            if row["median_claim_to_finish_s"] is None:
                expect(median).to_have_text("—")
            else:
                expect(median).not_to_have_text("—")


def check_cycle(page: Page, data: dict[str, Any]) -> None:
    body = panel(page, "cycle")
    for kind in data["types"]:
        figure = body.locator(f".cycle-type[data-type='{kind['type']}']")
        expect(figure.locator("[data-stat=count]")).to_contain_text(str(kind["count"]))
        counts = figure.locator("table.chart-table tbody tr td.num").all_text_contents()
        assert numbers(counts[: len(kind["histogram"])]) == [b["count"] for b in kind["histogram"]]
        bars = figure.locator("svg rect.bar")
        expect(bars).to_have_count(len(kind["histogram"]))
        markers = figure.locator("svg .marker")
        expect(markers).to_have_count(sum(kind[k] is not None for k in ("median_s", "p90_s")))


def check_services(page: Page, data: dict[str, Any]) -> None:
    body = panel(page, "services")
    for service in data["services"]:
        tr = body.locator(f"table.overview-services tr[data-service='{service['name']}']")
        expect(tr.locator("[data-stat=errors]")).to_have_text(str(service["metadata_errors"]))
        expect(tr.locator("[data-stat=state]")).to_have_text(
            "在线" if service["online"] else "离线"
        )
        row = body.locator(f"svg .timeline-row[data-row='{service['name']}']")
        expect(row.locator("rect.span")).to_have_count(len(service["spans"]))
        offline = sum(not span["online"] for span in service["spans"])
        expect(row.locator("rect.span-offline")).to_have_count(offline)


def check_stuck(page: Page, data: dict[str, Any]) -> None:
    body = panel(page, "stuck")
    for key in ("claimed_longer", "offline_service_tasks", "dead_letters_24h"):
        expect(body.locator(f"[data-stat={key}] .stuck-number")).to_have_text(str(data[key]))


CHECKS = {
    "projects": check_projects,
    "throughput": check_throughput,
    "people": check_people,
    "cycle": check_cycle,
    "services": check_services,
    "stuck": check_stuck,
}


def check_settled(page: Page, answers: StatsAnswers, name: str, within_s: float = 15) -> None:
    """Check panel `name` against the page's latest answer. The sample's services change every
    second (a failing metadata pull), so a live refetch may land between reading the answer and
    reading the screen: check again with the newest answer until they agree."""
    deadline = time.monotonic() + within_s
    expect.set_options(timeout=1000)
    try:
        while True:
            try:
                CHECKS[name](page, answers.json(name))
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
    finally:
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def test_each_panel_shows_the_numbers_the_api_gave_it(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    page = manager_page(sample, open_context)
    answers = open_overview(page)
    for name in PANELS:
        assert answers.status(name) == 200, name
        check_settled(page, answers, name)


def test_a_project_segment_opens_the_all_tasks_list_with_that_filter(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    page = manager_page(sample, open_context)
    answers = open_overview(page)
    row = next(r for r in answers.json("projects") if r["by_status"].get("待领取", 0) >= 2)
    tr = panel(page, "projects").locator(
        f"tr[data-project='{row['project']}'][data-type='{row['type']}']"
    )
    # The bar's own segment (a mouse click) and the count under it lead to the same list.
    tr.locator("svg a[data-key='待领取']").click()
    expect(page).to_have_url(re.compile(r"#/all\?"))
    query = dict(re.findall(r"[?&](\w+)=([^&]*)", page.url))
    assert query == {
        "project": row["project"],
        "type": row["type"],
        "status": "%E5%BE%85%E9%A2%86%E5%8F%96",  # 待领取
    }
    expect(page.locator("#f-all-status")).to_have_value("待领取")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(min(row["by_status"]["待领取"], 50))
    for text in rows.all_inner_texts():
        assert row["project"] in text and "待领取" in text
    page.go_back()
    panel(page, "projects").locator("a.status-count[data-status='待领取']").first.wait_for()


def test_a_person_opens_their_tasks(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    page = manager_page(sample, open_context)
    answers = open_overview(page)
    people = {p["user"]: p for p in answers.json("people")["people"]}
    assert "lixin" in people, people
    # Sortable: by holding, most first; pressed again, fewest first.
    table = panel(page, "people").locator("table[data-table=people]")
    holding = table.locator("tbody [data-stat=holding]")
    table.get_by_role("button", name="持有").click()
    expect(table.locator("th[aria-sort=descending]")).to_have_text(re.compile("持有"))
    shown = numbers(holding.all_inner_texts())
    assert shown == sorted((p["holding"] for p in people.values()), reverse=True)
    table.get_by_role("button", name="持有").click()
    expect(table.locator("th[aria-sort=ascending]")).to_have_text(re.compile("持有"))
    assert numbers(holding.all_inner_texts()) == sorted(shown)
    panel(page, "people").get_by_role("link", name="lixin", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/all\?user=lixin$"))
    expect(page.locator("#f-all-user")).to_have_value("lixin")
    expect(page.locator("tbody tr")).to_have_count(people["lixin"]["holding"])


def test_stuck_counts_link_to_their_lists(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    page = manager_page(sample, open_context)
    answers = open_overview(page, "?held=1")
    stuck = answers.json("stuck")
    assert stuck["claimed_hours"] == 1
    body = panel(page, "stuck")
    body.locator("[data-stat=offline_service_tasks] a").click()
    expect(page).to_have_url(re.compile(r"#/all\?online=false$"))
    expect(page.get_by_role("button", name=re.compile("服务离线"))).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(stuck["offline_service_tasks"])
    expect(page.locator("tbody tr").first).to_contain_text("服务离线")
    page.go_back()
    with page.expect_request(re.compile(r"/api/v1/tasks\?.*claimed_before=\d+")):
        panel(page, "stuck").locator("[data-stat=claimed_longer] a").click()
    expect(page).to_have_url(re.compile(r"#/all\?claimed_before=\d+$"))
    expect(page.locator("tbody tr")).to_have_count(min(stuck["claimed_longer"], 50))
    page.go_back()
    panel(page, "stuck").locator("[data-stat=dead_letters_24h] a").click()
    expect(page).to_have_url(re.compile(r"#/dead-letters$"))
    expect(page.locator("tbody tr").first).to_be_visible()


def test_the_period_and_filters_survive_reload_and_back(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    page = manager_page(sample, open_context)
    open_overview(page)
    expect(page.locator("#overview-period-7d")).to_have_attribute("aria-pressed", "true")
    with page.expect_request(re.compile(r"/stats/people\?since=\d+&until=\d+")) as asked:
        page.locator("#overview-period-30d").click()
    since, until = map(int, re.findall(r"=(\d+)", asked.value.url))
    assert until - since == 30 * 86400
    page.locator("#overview-project").fill("city-roads")
    page.locator("#overview-project").press("Enter")
    expect(page).to_have_url(re.compile(r"#/overview\?period=30d&project=city-roads$"))
    download = page.get_by_role("link", name="下载 CSV")
    expect(download).to_have_attribute("href", "/api/v1/tasks/export.csv?project=city-roads")
    others = panel(page, "projects").locator("tbody tr:not([data-project='city-roads'])")
    expect(others).to_have_count(0)

    answers = StatsAnswers(page)
    page.reload()
    expect(page.locator("#overview-period-30d")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#overview-project")).to_have_value("city-roads")
    wait_for_panels(page)
    assert all(r["project"] == "city-roads" for r in answers.json("projects"))
    assert "project=city-roads" in answers.responses["throughput"].url

    page.go_back()
    expect(page).to_have_url(re.compile(r"#/overview\?period=30d$"))
    expect(page.locator("#overview-project")).to_have_value("")
    page.go_back()
    expect(page.locator("#overview-period-7d")).to_have_attribute("aria-pressed", "true")

    page.locator("#overview-period-custom").click()
    page.locator("#overview-since").fill("2026-01-01T08:00")
    page.locator("#overview-until").fill("2026-01-02T08:00")
    page.get_by_role("button", name="应用").click()
    expect(page).to_have_url(re.compile(r"period=custom&since=\d+&until=\d+"))
    page.reload()
    expect(page.locator("#overview-since")).to_have_value("2026-01-01T08:00")
    expect(page.locator("#overview-until")).to_have_value("2026-01-02T08:00")


def test_a_live_event_changes_a_number_without_reload(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    add_user(server, "wangfang", "manager")
    server.publish("taskRegister", [task_body("20240612_live_a", project="live-p")])
    sign_in(context, "wangfang")
    open_overview(page)
    page.evaluate("window.__loaded = true")  # gone if the page reloads
    row = panel(page, "projects").locator("tr[data-project='live-p'][data-type='satEdit']")
    expect(row.locator("[data-stat=total]")).to_have_text("1")
    server.publish("taskRegister", [task_body("20240612_live_b", project="live-p")])
    expect(row.locator("[data-stat=total]")).to_have_text("2", timeout=LIVE_REFETCH_MS)
    expect(row.locator("[data-stat=unclaimed]")).to_have_text("2")
    assert page.evaluate("window.__loaded") is True


def test_an_annotator_sees_their_slice_and_no_refused_panel(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    context = open_context(sample.server)
    sign_in(context, "smq")
    page = context.new_page()
    answers = open_overview(page)
    for name in PANELS:
        section = panel(page, name)
        if answers.status(name) == 403:
            expect(section).to_be_hidden()
        else:
            assert answers.status(name) == 200, name
            expect(section).to_be_visible()
            check_settled(page, answers, name)
    # Stuck work is for managers: refused, so not shown (not an error box).
    assert answers.status("stuck") == 403
    expect(panel(page, "stuck")).to_have_attribute("data-state", "refused")
    if answers.status("people") == 200:
        users = {p["user"] for p in answers.json("people")["people"]}
        assert users <= {"smq"}
    # A project count leads an annotator to their own lists, not to the managers' one.
    link = panel(page, "projects").locator("a.status-count").first
    if link.count():
        assert re.match(r"#/(available|mine)(\?|$)", link.get_attribute("href") or "")


def test_the_overview_speaks_english(
    sample: Sample, open_context: Callable[..., BrowserContext]
) -> None:
    context = open_context(sample.server)
    sign_in(context, "wangfang")
    assert context.request.patch("/api/v1/me", data={"lang": "en"}).ok
    page = context.new_page()
    open_overview(page)
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(panel(page, "stuck").get_by_role("heading")).to_have_text("Stuck work")
    expect(page.get_by_role("button", name="30 d")).to_be_visible()
    expect(panel(page, "projects").locator("a.status-count").first).to_contain_text("(")
    expect(panel(page, "throughput").get_by_role("button", name="Show as table")).to_be_visible()
