"""The app's lifespan closes whatever it started, in reverse order, whatever fails.

The app runs in this process against a real nsqd and a SQLite store; one of its own parts is
made to fail (its start, or its close), and what the others left behind is looked at: nsqd's
clients, asyncio tasks, the store's threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskdash.app import create_app
from taskdash.messaging.live_feed import LiveFeedSource
from taskdash.settings import Settings
from taskdash.sync.sweeps import Sweeper
from tests.servers import Nsqd
from tests.support import make_settings, wait_until


class Refused(Exception):
    pass


@pytest.fixture
def settings(tmp_path: Path, nsqd: Nsqd) -> Iterator[Settings]:
    yield make_settings(tmp_path, nsqd_tcp_addresses=[nsqd.tcp_address])


def nsqd_clients(nsqd: Nsqd) -> int:
    """Connections to nsqd: consumers on any channel, plus producers (our Writer)."""
    stats = nsqd.stats()
    consumers = sum(
        len(channel["clients"]) for topic in stats["topics"] for channel in topic["channels"]
    )
    return consumers + len(stats.get("producers") or [])


def store_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("sqlite-")]


def other_tasks() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[arg-type]


async def wait_for_consumers(nsqd: Nsqd) -> None:
    """Until the four topics' Readers (at least) are connected; the loop runs meanwhile."""
    await asyncio.to_thread(wait_until, lambda: nsqd_clients(nsqd) >= 4, timeout_s=10)


async def test_a_failing_start_closes_what_started_before_it(
    settings: Settings, nsqd: Nsqd, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: LiveFeedSource) -> None:
        await wait_for_consumers(nsqd)  # the consumer did start
        raise Refused("the live feed cannot start")

    monkeypatch.setattr(LiveFeedSource, "start", refuse)
    app = create_app(settings)
    with pytest.raises(Refused):
        async with app.router.lifespan_context(app):
            pytest.fail("started although a part of it failed")
    assert other_tasks() == set()
    assert store_threads() == []
    wait_until(lambda: nsqd_clients(nsqd) == 0, timeout_s=10)


async def test_a_failing_close_still_closes_the_rest_and_the_store(
    settings: Settings, nsqd: Nsqd, monkeypatch: pytest.MonkeyPatch
) -> None:
    close_sweeper = Sweeper.aclose

    async def close_then_fail(self: Sweeper) -> None:
        await close_sweeper(self)
        raise Refused("the sweeper failed to close")

    monkeypatch.setattr(Sweeper, "aclose", close_then_fail)
    app = create_app(settings)
    with pytest.raises(Refused):
        async with app.router.lifespan_context(app):
            await wait_for_consumers(nsqd)
            assert store_threads() != []
    assert other_tasks() == set()
    assert store_threads() == []
    wait_until(lambda: nsqd_clients(nsqd) == 0, timeout_s=10)
