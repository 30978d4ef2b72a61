"""The API documentation page renders in a browser under the strict Content-Security-Policy."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support import LiveServer


def test_the_docs_page_shows_the_api_without_breaking_the_policy(
    server: LiveServer, page: Page
) -> None:
    page.goto(f"{server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TaskDash")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/tasks/claim-next", exact=True)).to_be_visible()
