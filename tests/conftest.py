"""Fixtures: a live TaskDash server per test on a fresh store; real nsqd and FerretDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Nsqd
from tests.support import TOPICS, LiveServer, live_server_on, make_settings


@pytest.fixture(params=["sqlite", "mongo"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on the embedded store, and again on MongoDB (FerretDB)."""
    with live_server_on(request.param, request, tmp_path) as live:
        yield live


@pytest.fixture
def nsqd(tmp_path: Path) -> Iterator[Nsqd]:
    """A real nsqd with the four topics and TaskDash's channel created."""
    daemon = Nsqd(tmp_path / "nsqd", node_id=1).start()
    try:
        for topic in TOPICS:
            daemon.create_channel(topic, "taskdash")
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def nsq_server(tmp_path: Path, nsqd: Nsqd) -> Iterator[LiveServer]:
    """TaskDash consuming from `nsqd`."""
    live = LiveServer(make_settings(tmp_path, nsqd_tcp_addresses=[nsqd.tcp_address])).start()
    try:
        yield live
    finally:
        live.stop()


# FerretDB for the MongoDB store backend: a session server and a fresh database per test.
from tests.ferretdb import ferretdb, mongo_url  # noqa: E402, F401
