"""Helpers for the overview tests: open the page, wait for its panels, keep the API's answers."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import Page, Response, expect

from tests.web.browsing import open_route

PANELS = ("stuck", "projects", "throughput", "people", "cycle", "services")
# The stats path each panel reads, as the page names its panels.
PANEL_OF_PATH = {
    "projects": "projects",
    "throughput": "throughput",
    "people": "people",
    "cycle-time": "cycle",
    "services": "services",
    "stuck": "stuck",
}


class StatsAnswers:
    """The last answer the page got from each /api/v1/stats/ endpoint."""

    def __init__(self, page: Page) -> None:
        self.responses: dict[str, Response] = {}
        page.on("response", self._keep)

    def _keep(self, response: Response) -> None:
        path = urlparse(response.url).path
        if path.startswith("/api/v1/stats/"):
            self.responses[PANEL_OF_PATH[path.rsplit("/", 1)[-1]]] = response

    def status(self, panel: str) -> int:
        return self.responses[panel].status

    def json(self, panel: str) -> Any:
        response = self.responses[panel]
        assert response.ok, (panel, response.status, response.text())
        return response.json()


def panel(page: Page, name: str) -> Any:
    return page.locator(f"section[data-panel='{name}']")


def wait_for_panels(page: Page) -> None:
    """Every panel has its answer in: shown, or hidden because the API refused it."""
    for name in PANELS:
        expect(panel(page, name)).to_have_attribute("data-state", re.compile("^(ready|refused)$"))


def open_overview(page: Page, query: str = "") -> StatsAnswers:
    answers = StatsAnswers(page)
    open_route(page, f"overview{query}")
    wait_for_panels(page)
    return answers


def numbers(texts: list[str]) -> list[int]:
    """Counts as shown ("1,234" → 1234)."""
    return [int(text.replace(",", "")) for text in texts]
