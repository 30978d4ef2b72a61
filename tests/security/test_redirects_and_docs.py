"""Redirects never carry a client-chosen host; /docs serves only what it needs, under the CSP."""

from __future__ import annotations

import httpx
import pytest

from tests.support import LiveServer

STRICT_CSP_START = "default-src 'self'; script-src 'self'"


@pytest.mark.parametrize("path", ["/static", "/api/v1/tasks/", "/api/v1/services/"])
def test_a_forged_host_is_not_reflected_into_redirects(server: LiveServer, path: str) -> None:
    for host in ("evil.example", "evil.example:8443", "127.0.0.1:1"):
        answer = server.client().get(path, headers={"Host": host})
        assert answer.status_code == 307, answer.text
        location = answer.headers["location"]
        assert location.startswith("/") and not location.startswith("//"), location
        assert host not in location


def test_a_redirect_followed_by_a_client_stays_on_this_server(server: LiveServer) -> None:
    answer = server.client(follow_redirects=True).get("/static/")
    assert answer.url.host == "127.0.0.1"


@pytest.mark.parametrize(
    "path",
    [
        "/docs-assets/index.html",
        "/docs-assets/swagger-initializer.js",
        "/docs-assets/oauth2-redirect.html",
        "/docs-assets/swagger-ui.js.map",
        "/docs-assets/../../../etc/passwd",
        "/docs-assets/%2e%2e%2f%2e%2e%2fsettings.py",
    ],
)
def test_docs_assets_serve_only_what_the_docs_page_needs(server: LiveServer, path: str) -> None:
    answer = server.client().get(path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["errid"] == 1000


def test_the_docs_page_and_its_assets_carry_the_strict_policy(server: LiveServer) -> None:
    client = server.client()
    for path in (
        "/docs",
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs-assets/favicon.png",
        "/static/docs.js",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"].startswith(STRICT_CSP_START), path
    page = client.get("/docs").text
    assert "<script>" not in page and "http://" not in page and "https://" not in page


def test_no_answer_points_outside(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        for path in ("/docs", "/static/docs.js"):
            body = client.get(path).text
            assert "petstore" not in body and "swagger.io" not in body
