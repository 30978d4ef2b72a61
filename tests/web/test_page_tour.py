"""Every page with realistic data, at 1366×768 and at phone width: it renders its content, the
page never scrolls sideways, nothing breaks the CSP, and a screenshot is taken (into a temp dir;
`make screenshots` runs this file to refresh docs/screenshots)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.web.browsing import DESKTOP, PHONE, ConsoleLog, open_route, sign_in
from tests.web.conftest import Sample
from tests.web.overview_page import panel, wait_for_panels

VIEWPORTS: dict[str, ViewportSize] = {"desktop": DESKTOP, "phone": PHONE}
# name -> (who, route, a text the page shows in a cell or heading once its data is in)
PAGES: dict[str, tuple[str, str, str]] = {
    "available": ("admin", "available", "coast-2024q2"),
    "mine": ("admin", "mine", "编辑中"),
    "checking": ("chenjing", "checking", "lixin"),
    "all": ("admin", "all?order=newest", "lixin"),
    "task": ("admin", "task/{admin_task}", "历史记录"),
    "services": ("admin", "services", "pcdEdit"),
    "overview": ("admin", "overview", "coast-2024q2"),
    "dead-letters": ("admin", "dead-letters", "taskRegister"),
    "users": ("admin", "users", "chenjing"),
}


def show(page: Page, sample: Sample, name: str) -> None:
    _, route, marker = PAGES[name]
    open_route(page, route.format(**sample.info))
    expect(page.locator("#main td, #main h2").filter(has_text=marker).first).to_be_visible()
    if name == "overview":
        wait_for_panels(page)
        panel(page, "throughput").locator("svg.chart").first.wait_for()
    page.evaluate("document.fonts.ready.then(() => true)")


def assert_no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page(
    sample: Sample,
    open_context: Callable[..., BrowserContext],
    console: ConsoleLog,
    screenshots: Path,
    name: str,
    viewport: str,
) -> None:
    context = open_context(sample.server, viewport=VIEWPORTS[viewport])
    sign_in(context, PAGES[name][0])
    page = context.new_page()
    show(page, sample, name)
    assert_no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"{name}-{viewport}.png")
    assert console.csp_violations() == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_login_page(
    sample: Sample, open_context: Callable[..., BrowserContext], screenshots: Path, viewport: str
) -> None:
    page = open_context(sample.server, viewport=VIEWPORTS[viewport]).new_page()
    page.goto("/")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    assert_no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"login-{viewport}.png")


def test_assign_dialog_and_dark_mode(
    sample: Sample, open_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    context = open_context(sample.server, color_scheme="dark")
    sign_in(context, "wangfang")
    page = context.new_page()
    show(page, sample, "available")
    page.screenshot(path=screenshots / "available-dark.png")
    open_route(page, "all?status=待领取&type=satEdit")
    rows = page.locator("tbody tr")
    rows.first.locator("input.row-select").check()
    rows.nth(4).locator("input.row-select").click(modifiers=["Shift"])
    page.get_by_role("button", name="指派所选 (5)").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("在组内分配").check()
    dialog.locator("#assign-spread-group").select_option("team-a")
    expect(dialog.get_by_role("status")).to_contain_text("→ lixin")
    page.screenshot(path=screenshots / "assign-dark.png")


def test_overview_in_dark_mode(
    sample: Sample, open_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    context = open_context(sample.server, color_scheme="dark")
    sign_in(context, "admin")
    page = context.new_page()
    show(page, sample, "overview")
    # Chart words are drawn light on the dark card, not in the light theme's dark grey.
    fill = page.locator("svg.chart text.x-label").first.evaluate("el => getComputedStyle(el).fill")
    card = page.locator("section[data-panel='throughput']").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert luminance(fill) > 0.5 > luminance(card), (fill, card)
    page.screenshot(path=screenshots / "overview-dark.png", full_page=True)


def luminance(css_colour: str) -> float:
    red, green, blue = (int(v) for v in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_english(
    sample: Sample, open_context: Callable[..., BrowserContext], screenshots: Path
) -> None:
    context = open_context(sample.server)
    sign_in(context, "lixin")
    assert context.request.patch("/api/v1/me", data={"lang": "en"}).ok
    page = context.new_page()
    open_route(page, "mine")
    expect(page.get_by_role("heading", name="My tasks")).to_be_visible()
    expect(page.locator("tbody").get_by_text("已领取 (claimed)").first).to_be_visible()
    page.screenshot(path=screenshots / "mine-english-desktop.png")
