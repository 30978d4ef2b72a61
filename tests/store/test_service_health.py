"""Services' online/offline transitions and metadata errors in the store, on each backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from taskdash.domain.events import Heartbeat, ServiceRegistration
from taskdash.domain.ports import Store
from taskdash.store import open_store
from taskdash.sync import sweeps
from tests.support import make_settings

URL = "http://127.0.0.1:18081/TaskDash"
T0 = 1_700_000_000.0
TIMEOUT_S = 90.0


@pytest.fixture(params=["sqlite", "mongo"])
async def two_instances(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[list[Store]]:
    """Two stores open on one database, as two TaskDash instances sharing it have them."""
    if request.param == "mongo":
        url = request.getfixturevalue("mongo_url")
    else:
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = await open_store(url)
    second = await open_store(url)
    try:
        yield [first, second]
    finally:
        await first.aclose()
        await second.aclose()


def ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


async def register(stores: list[Store], *, at: float) -> None:
    reg = ServiceRegistration(url=URL + "/", name="satEdit", reserved="")
    await asyncio.gather(
        *(s.services.register(reg=reg, ts_ns=ns(at), now=at) for s in stores for _ in range(3))
    )


async def sweep(stores: list[Store], *, at: float) -> None:
    await asyncio.gather(
        *(s.services.sweep_health(now=at, timeout_s=TIMEOUT_S) for s in stores for _ in range(3))
    )


async def beat(stores: list[Store], *, at: float) -> None:
    """The same heartbeat seen by every instance, three times each (redelivered)."""
    hb = Heartbeat(url=URL, time=int(at), reserved="")
    await asyncio.gather(
        *(
            s.services.record_heartbeat(
                hb=hb, ts_ns=ns(at), now=at, timeout_s=TIMEOUT_S, max_skew_s=300
            )
            for s in stores
            for _ in range(3)
        )
    )


async def transitions(store: Store, *, since: float, until: float) -> list[tuple[float, bool]]:
    [health] = await store.services.health_history(since=since, until=until)
    return [(t.at, t.online) for t in health.transitions]


async def test_each_change_of_health_is_one_transition_with_two_instances(
    two_instances: list[Store],
) -> None:
    await register(two_instances, at=T0)
    await beat(two_instances, at=T0 + 30)
    await sweep(two_instances, at=T0 + 150)  # 120 s without a beat: offline
    await sweep(two_instances, at=T0 + 160)
    await beat(two_instances, at=T0 + 200)  # online again
    await beat(two_instances, at=T0 + 230)
    await sweep(two_instances, at=T0 + 400)

    expected = [(T0, True), (T0 + 150, False), (T0 + 200, True), (T0 + 400, False)]
    for store in two_instances:
        assert await transitions(store, since=0, until=T0 + 1000) == expected
    # The state before `since` is the last transition at or before it; later ones follow.
    assert await transitions(two_instances[0], since=T0 + 170, until=T0 + 300) == [
        (T0 + 150, False),
        (T0 + 200, True),
    ]


async def test_pruning_keeps_each_services_latest_transition(two_instances: list[Store]) -> None:
    store = two_instances[0]
    await register([store], at=T0)
    for cycle in range(3):
        start = T0 + 1000 * (cycle + 1)
        await beat([store], at=start)  # back online only after the sweep below
        await sweep([store], at=start + 500)
    everything = await transitions(store, since=0, until=T0 + 10_000)
    assert len(everything) == 6  # registered, then offline and online by turns

    assert await store.services.prune_transitions(before=T0 + 2600) == 3
    kept = await transitions(store, since=0, until=T0 + 10_000)
    assert kept == [t for t in everything if t[0] >= T0 + 2500]
    assert await store.services.prune_transitions(before=T0 + 2600) == 0


async def test_metadata_errors_are_counted_and_the_last_kept(two_instances: list[Store]) -> None:
    store = two_instances[0]
    await register([store], at=T0)
    for number, error in enumerate(["timed out after 5 s", "", "HTTP 502 from x", ""]):
        await store.services.record_metadata_sync(
            url=URL, error=error, now=T0 + number, failures=0, next_at=0
        )
    [health] = await store.services.health_history(since=T0, until=T0 + 10)
    assert health.metadata_errors == 2
    assert (health.last_metadata_error, health.last_metadata_error_at) == (
        "HTTP 502 from x",
        T0 + 2,
    )
    assert health.service.metadata_error == ""  # the last pull worked


async def test_the_purge_sweep_keeps_30_days(two_instances: list[Store], tmp_path: Path) -> None:
    store = two_instances[0]
    now = time.time()
    day = 24 * 3600.0
    await register([store], at=now - 40 * day)
    await sweep([store], at=now - 39 * day)
    await beat([store], at=now - 31 * day)
    await sweep([store], at=now - 2 * day)
    settings = make_settings(tmp_path)
    assert await sweeps.prune_service_transitions_once(store=store, settings=settings) == 2
    assert await transitions(store, since=0, until=now) == [
        (now - 31 * day, True),
        (now - 2 * day, False),
    ]
