"""The page shell preloads every module of the front end (one round trip, not one per level)."""

from __future__ import annotations

import re

from taskdash.web.routes.pages import STATIC_DIR

SHELL_SCRIPTS = {"app.js"}  # loaded by <script>, not preloaded
OTHER_PAGES = {"docs.js"}  # the API docs page, not the app


def test_index_preloads_every_module() -> None:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'rel="modulepreload" href="/static/([\w.-]+\.js)"', html))
    modules = {path.name for path in STATIC_DIR.glob("*.js")} - SHELL_SCRIPTS - OTHER_PAGES
    assert preloaded == modules
