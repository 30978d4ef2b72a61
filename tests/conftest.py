"""Fixtures: a live TaskDash server per test on a fresh store; real nsqd and FerretDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Nsqd
from tests.support import TOPICS, LiveServer, live_server_on


@pytest.fixture(params=["sqlite", "mongo"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on the embedded store, and again on MongoDB (FerretDB)."""
    with live_server_on(request.param, request, tmp_path) as live:
        yield live


@pytest.fixture(scope="session")
def session_nsqd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nsqd]:
    """One nsqd process for the session (each test gets it with no topics of a test before)."""
    daemon = Nsqd(tmp_path_factory.mktemp("nsqd"), node_id=1).start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def nsqd(session_nsqd: Nsqd) -> Iterator[Nsqd]:
    """The session's nsqd with only the four topics and TaskDash's channel, fresh and empty.

    A test may stop and start it (same ports, same data path); it is running again afterwards.
    """
    if not session_nsqd.running():
        session_nsqd.start()
    session_nsqd.delete_topics()
    for topic in TOPICS:
        session_nsqd.create_channel(topic, "taskdash")
    yield session_nsqd
    if not session_nsqd.running():
        session_nsqd.start()
    session_nsqd.delete_topics()


@pytest.fixture
def nsq_server(request: pytest.FixtureRequest, tmp_path: Path, nsqd: Nsqd) -> Iterator[LiveServer]:
    """TaskDash on the embedded store, consuming from `nsqd`."""
    with live_server_on("sqlite", request, tmp_path, nsqd_tcp_addresses=[nsqd.tcp_address]) as live:
        yield live


# FerretDB for the MongoDB store backend: a session server and a fresh database per test.
from tests.ferretdb import ferretdb, mongo_url  # noqa: E402, F401
