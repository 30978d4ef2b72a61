"""Browser fixtures: one Debian Chromium for tests/web, a fresh context and page per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support import LiveServer, ThreadedApp, empty_metadata, live_server_on, make_settings
from tests.web.browsing import CHROMIUM_ARGS, SCREENSHOTS_DIR_VARIABLE, ConsoleLog, new_context
from tests.web.sample_data import load_sample_data


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on a fresh embedded store (the pages do not depend on the backend)."""
    with live_server_on("sqlite", request, tmp_path) as live:
        yield live


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread
# until it stops, and tests outside tests/web (run after these by a pytest-xdist worker) call
# asyncio.run.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("install chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the page tour saves its screenshots: a temp dir, or the docs' (`make screenshots`)."""
    chosen = os.environ.get(SCREENSHOTS_DIR_VARIABLE)
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def open_context(browser: Browser, console: ConsoleLog) -> Iterator[Callable[..., BrowserContext]]:
    """Open more browser profiles (another user's window); all closed after the test, which
    fails if any page broke the CSP or threw."""
    opened: list[BrowserContext] = []

    def open_one(server: LiveServer, **options: Any) -> BrowserContext:
        context = new_context(browser, server, console, **options)
        opened.append(context)
        return context

    yield open_one
    for context in opened:
        context.close()
    assert console.csp_violations() == []
    assert console.script_errors() == []


@pytest.fixture
def context(server: LiveServer, open_context: Callable[..., BrowserContext]) -> BrowserContext:
    return open_context(server)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@dataclass
class Sample:
    server: LiveServer
    info: dict[str, Any]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """A server with realistic data (services, heartbeats, a few dozen tasks, users)."""
    settings = make_settings(tmp_path_factory.mktemp("sample"), metadata_sync_interval_s=1)
    with ThreadedApp(empty_metadata) as sat_service:
        live = LiveServer(settings).start()
        try:
            yield Sample(live, load_sample_data(live, sat_url=sat_service.url))
        finally:
            live.stop()
