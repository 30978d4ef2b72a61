"""Fixtures: a live TaskDash server per test on a fresh embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import LiveServer, make_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(make_settings(tmp_path)).start()
    try:
        yield live
    finally:
        live.stop()
