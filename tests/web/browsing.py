"""Helpers for the browser tests: contexts, signing in, console watching, store access."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

from tests.support import PASSWORD, LiveServer

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 375, "height": 740}
DEFAULT_TIMEOUT_MS = 5000
LIVE_DEADLINE_MS = 2000  # a list shows a change this soon after it happens, without a reload
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# `make screenshots` sets this to docs/screenshots; otherwise they go to the test's temp dir.
SCREENSHOTS_DIR_VARIABLE = "TASKDASH_TEST_SCREENSHOTS_DIR"

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` in a worker thread: Playwright's sync API keeps an event loop running in this
    one, and store helpers (add_user, run_on_store) start their own with asyncio.run."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def add_user(server: LiveServer, name: str, role: str = "annotator", *, group: str = "") -> None:
    off_loop(server.add_user, name, role, group=group)


class ConsoleLog:
    """Console errors and uncaught exceptions of every page it watches."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]

    def script_errors(self) -> list[str]:
        return [e for e in self.errors if e.startswith("uncaught:")]


def new_context(
    browser: Browser,
    server: LiveServer,
    console: ConsoleLog,
    *,
    viewport: ViewportSize = DESKTOP,
    color_scheme: Literal["light", "dark"] = "light",
) -> BrowserContext:
    """A fresh browser profile on `server` whose pages report to `console`."""
    context = browser.new_context(
        base_url=server.url,
        viewport=viewport,
        color_scheme=color_scheme,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.on("page", console.watch)
    return context


def sign_in(context: BrowserContext, name: str, password: str = PASSWORD) -> None:
    """Start a session in `context` through the API (the browser then holds the cookie)."""
    answer = context.request.post("/api/v1/login", data={"username": name, "password": password})
    assert answer.ok, answer.text()


def open_route(page: Page, route: str) -> None:
    """Load the app at `#/route` and wait until its live stream is connected."""
    page.goto(f"/#/{route}")
    page.locator("#live-indicator[data-state='open']").wait_for()


def task_row(page: Page, text: str) -> Any:
    """The table row (or phone card) that shows `text`."""
    return page.locator("tbody tr").filter(has_text=text)
