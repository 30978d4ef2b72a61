"""The overview's SVG charts, drawn from fixed data in the real page: the shapes match the
numbers, the same numbers are in a table for screen readers, and the chart fits its box."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.support import LiveServer
from tests.web.browsing import PHONE, add_user, open_route, sign_in

# Draws one figure into a fresh box of the page (the SVG comes in the next frame).
DRAW = """async () => {{
  const chart = await import("/static/{module}");
  const figure = await import("/static/chart-figure.js");
  document.getElementById("chart-host")?.remove();
  const host = document.createElement("div");
  host.id = "chart-host";
  host.style.width = "{width}px";
  document.getElementById("main").append(host);
  host.append(({call})(chart, figure));
}}"""


def draw(page: Page, module: str, call: str, width: int = 600) -> None:
    page.evaluate(DRAW.format(module=module, width=width, call=call))
    page.locator("#chart-host svg").first.wait_for()


def attrs(page: Page, selector: str, *names: str) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        selector,
        "(els, names) => els.map((el) => Object.fromEntries("
        "names.map((n) => [n, el.getAttribute(n)])))",
        list(names),
    )


def signed_in_page(server: LiveServer, context: BrowserContext, page: Page) -> Page:
    add_user(server, "wangfang", "manager")
    sign_in(context, "wangfang")
    open_route(page, "available")
    return page


def test_a_time_series_draws_one_line_per_series_and_a_table(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    signed_in_page(server, context, page)
    draw(
        page,
        "chart-time-series.js",
        """(chart, figure) => figure.chartFigure({
          name: "test", caption: "flows",
          draw: (width) => chart.timeSeries({
            width, starts: [0, 3600, 7200, 10800], timeLabel: (s) => `t${s / 3600}`,
            format: String,
            series: [
              {key: "created", label: "created", values: [1, 4, 2, 0]},
              {key: "unclaimed", label: "queue", values: [3, 5, 6, 6], area: true},
            ],
          }),
          table: figure.dataTable({
            caption: "flows", columns: [{label: "t"}, {label: "created", num: true}],
            rows: [["t0", "1"], ["t1", "4"], ["t2", "2"], ["t3", "0"]],
          }),
        })""",
    )
    svg = page.locator("#chart-host svg")
    assert svg.get_attribute("width") == "600"
    assert svg.get_attribute("aria-hidden") == "true"
    lines = attrs(page, "#chart-host polyline", "points", "class")
    assert [line["class"] for line in lines] == ["line line-created", "line line-unclaimed"]
    created = [tuple(map(float, p.split(","))) for p in lines[0]["points"].split()]
    assert len(created) == 4
    # Higher values are drawn higher (smaller y); x moves right bucket by bucket.
    assert created[1][1] < created[2][1] < created[0][1] < created[3][1]
    assert [p[0] for p in created] == sorted(p[0] for p in created)
    assert page.locator("#chart-host polygon.area-unclaimed").count() == 1
    assert page.locator("#chart-host line.axis").count() == 1
    ticks = page.locator("#chart-host .tick text").all_text_contents()
    assert ticks == ["0", "2", "4", "6", "8", "10"]  # 1-2-5 steps up to a round maximum
    assert page.locator("#chart-host text.x-label").first.text_content() == "t0"
    # The numbers are in a table a screen reader reaches; the toggle shows it instead.
    table = page.get_by_role("table", name="flows")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody tr").nth(1)).to_contain_text("4")
    hidden_box = page.locator("#chart-host .chart-table-box").bounding_box()
    assert hidden_box is not None and hidden_box["width"] <= 1  # visually hidden, still read
    page.get_by_role("button", name="显示为表格").click()
    expect(table).to_be_visible()
    expect(page.locator("#chart-host .chart-box")).to_be_hidden()
    page.get_by_role("button", name="显示为图表").click()
    expect(page.locator("#chart-host .chart-box svg")).to_be_visible()


def test_a_histogram_marks_the_median_and_p90_in_their_bins(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    signed_in_page(server, context, page)
    draw(
        page,
        "chart-histogram.js",
        """(chart) => chart.histogram({
          width: 500, format: String,
          bins: [{label: "a", count: 2}, {label: "b", count: 8}, {label: "c", count: 0},
                 {label: "d", count: 1}],
          markers: [{key: "median", label: "median 3 min", at: 1.5},
                    {key: "p90", label: "p90 1 h", at: 3.25}],
        })""",
        width=500,
    )
    bars = attrs(page, "#chart-host rect.bar", "x", "y", "width", "height")
    assert len(bars) == 4
    heights = [float(b["height"]) for b in bars]
    assert heights[1] == max(heights) and heights[2] == 0
    assert heights[1] == 4 * heights[0]
    values = page.locator("#chart-host text.bar-value").all_text_contents()
    assert values == ["2", "8", "1"]
    median = attrs(page, "#chart-host .marker-median line", "x1")[0]
    p90 = attrs(page, "#chart-host .marker-p90 line", "x1")[0]
    second = bars[1]
    fourth = bars[3]
    assert float(second["x"]) < float(median["x1"]) < float(second["x"]) + float(second["width"])
    assert float(fourth["x"]) < float(p90["x1"]) < float(fourth["x"]) + float(fourth["width"])
    expect(page.locator("#chart-host .marker-p90 text")).to_have_text("p90 1 h")


def test_a_timeline_draws_each_span_and_hatches_offline_ones(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    signed_in_page(server, context, page)
    draw(
        page,
        "chart-timeline.js",
        """(chart) => chart.timeline({
          width: 400, since: 0, until: 100, timeLabel: String, spanTitle: (s) => `${s.from}`,
          rows: [
            {key: "satEdit", label: "satEdit", spans: [{from: 0, to: 50, online: true},
                                                      {from: 50, to: 100, online: false}]},
            {key: "vidEdit", label: "vidEdit", spans: [{from: 0, to: 100, online: true}]},
          ],
        })""",
        width=400,
    )
    spans = attrs(page, "#chart-host rect.span", "class", "x", "width", "fill")
    states = [s["class"].removeprefix("span span-") for s in spans]
    assert states == ["online", "offline", "online"]
    assert spans[1]["fill"] == "url(#hatch-offline)" and spans[0]["fill"] is None
    assert float(spans[0]["width"]) == float(spans[1]["width"])
    assert float(spans[0]["x"]) + float(spans[0]["width"]) == float(spans[1]["x"])
    assert float(spans[2]["width"]) == 2 * float(spans[0]["width"])
    labels = page.locator("#chart-host text.row-label").all_text_contents()
    assert labels == ["satEdit", "vidEdit"]


def test_a_stacked_bar_sizes_its_segments_and_links_them(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    signed_in_page(server, context, page)
    draw(
        page,
        "chart-stacked-bar.js",
        """(chart, figure) => figure.responsiveBox((width) => chart.stackedBar({
          width, segments: [
            {key: "待领取", kind: "unclaimed", label: "待领取", value: 30, href: "#/all?status=a"},
            {key: "已领取", kind: "claimed", label: "已领取", value: 0, href: "#/all?status=b"},
            {key: "已完成", kind: "finished", label: "已完成", value: 10, href: "#/all?status=c"},
          ]}))""",
        width=400,
    )
    segments = attrs(page, "#chart-host rect.seg", "class", "width")
    assert [s["class"] for s in segments] == ["seg seg-unclaimed", "seg seg-finished"]
    assert [float(s["width"]) for s in segments] == [300, 100]
    assert page.locator("#chart-host text.seg-text").all_text_contents() == ["30", "10"]
    links = attrs(page, "#chart-host svg a", "href")
    assert [link["href"] for link in links] == ["#/all?status=a", "#/all?status=c"]


def test_a_chart_is_drawn_for_the_width_it_gets_on_a_phone(
    server: LiveServer, open_context: Any
) -> None:
    context = open_context(server, viewport=PHONE)
    page = context.new_page()
    signed_in_page(server, context, page)
    page.evaluate(
        """async () => {
          const chart = await import("/static/chart-time-series.js");
          const figure = await import("/static/chart-figure.js");
          const box = figure.responsiveBox((width) => chart.timeSeries({
            width, starts: Array.from({length: 48}, (_, i) => i * 3600),
            timeLabel: (s) => `${s / 3600}:00`, format: String,
            series: [{key: "created", label: "c", values: Array.from({length: 48}, (_, i) => i)}],
          }));
          box.id = "chart-host";
          document.getElementById("main").append(box);
        }"""
    )
    svg = page.locator("#chart-host svg")
    svg.wait_for()
    width = float(svg.get_attribute("width") or 0)
    box = page.locator("#chart-host").bounding_box()
    assert box is not None and 300 < width <= box["width"]
    labels = page.locator("#chart-host text.x-label").all_text_contents()
    assert 2 <= len(labels) < 48  # thinned out so that they do not overlap
