"""The activity rollups (throughput, people, cycle times) equal a recount from raw history."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import AsyncMongoClient

from taskdash.actions import stats_activity
from taskdash.actions.stats_activity import StatsFilter
from taskdash.domain.activity import DAY_S, HOUR_S, hour_of, quantile
from taskdash.domain.errors import BadRequest
from taskdash.domain.models import Role, User
from taskdash.domain.ports import Store
from taskdash.store import open_store
from taskdash.store.sqlite.schema import SCHEMA_VERSION
from tests.store.activity_mix import (
    FINISHED,
    OPS,
    T0,
    USERS,
    Mix,
    random_ops,
    recount,
    run_mix,
)

MANAGER = User(name="boss", role=Role.MANAGER, password_hash="")


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "mongo":
        url = request.getfixturevalue("mongo_url")
    else:
        url = f"sqlite:///{tmp_path / 'activity.db'}"
    opened = await open_store(url)
    try:
        for name, group in USERS.items():
            await opened.accounts.add_user(
                User(name=name, role=Role.ANNOTATOR, password_hash="x", group=group)
            )
        yield opened
    finally:
        await opened.aclose()


def whole_range(mix: Mix) -> StatsFilter:
    return StatsFilter(since=T0, until=mix.now)


async def check_throughput(store: Store, mix: Mix, viewer: User) -> None:
    counted = await recount(store)
    own = viewer.role < Role.MANAGER
    result = await stats_activity.throughput(
        store=store,  # type: ignore[arg-type]
        viewer=viewer,
        stats=whole_range(mix),
        bucket="hour",
        finished=FINISHED,
    )
    assert result.since == T0
    assert [b.start for b in result.buckets] == list(range(T0, int(result.until), HOUR_S))
    groups = ("", viewer.group)
    queue_now = await mix.queue()  # the last bucket ends after now
    for bucket in result.buckets:
        hour = int(bucket.start)
        claimed = sum(n for (h, user), n in counted.claimed.items() if h == hour)
        finished = sum(n for (h, user), n in counted.finished.items() if h == hour)
        if own:
            claimed = counted.claimed[hour, viewer.name]
            finished = counted.finished[hour, viewer.name]
        queue = mix.queue_at.get(hour + HOUR_S, queue_now)
        unclaimed = sum(n for key, n in queue.items() if not own or key[2] in groups)
        assert (bucket.claimed, bucket.finished, bucket.unclaimed) == (
            claimed,
            finished,
            unclaimed,
        ), hour
        if not own:
            assert bucket.created == counted.created[hour], hour
    days = await stats_activity.throughput(
        store=store,  # type: ignore[arg-type]
        viewer=viewer,
        stats=whole_range(mix),
        bucket="day",
        finished=FINISHED,
    )
    assert sum(b.claimed for b in days.buckets) == sum(b.claimed for b in result.buckets)
    assert days.buckets[-1].unclaimed == result.buckets[-1].unclaimed
    assert days.since == T0 // DAY_S * DAY_S


async def check_people_and_cycles(store: Store, mix: Mix) -> None:
    counted = await recount(store)
    people = await stats_activity.people(
        store=store,  # type: ignore[arg-type]
        viewer=MANAGER,
        stats=whole_range(mix),
        finished=FINISHED,
    )
    rows = {row.user: row for row in people.people}
    assert set(rows) >= set(USERS)
    durations: dict[str, list[float]] = defaultdict(list)
    for _, _, user, seconds in counted.cycles:
        durations[user].append(seconds)
    for name, row in rows.items():
        finished = sum(n for (_, user), n in counted.finished.items() if user == name)
        assert (
            row.counts.holding,
            row.counts.finished,
            row.counts.releases,
            row.counts.expiries,
        ) == (counted.holding[name], finished, counted.releases[name], counted.expiries[name])
        expected = statistics.median(durations[name]) if durations[name] else None
        assert row.median_claim_to_finish_s == pytest.approx(expected)
    g1 = next(group for group in people.groups if group.group == "g1")
    assert g1.members == 2
    assert g1.counts.holding == counted.holding["alice"] + counted.holding["bob"]
    cycles = await stats_activity.cycle_time(
        store=store,  # type: ignore[arg-type]
        viewer=MANAGER,
        stats=whole_range(mix),
        finished=FINISHED,
    )
    by_type: dict[str, list[float]] = defaultdict(list)
    for _, task_type, _, seconds in counted.cycles:
        by_type[task_type].append(seconds)
    assert [t.type for t in cycles.types] == sorted(by_type)
    for row in cycles.types:
        values = sorted(by_type[row.type])
        assert row.count == len(values) == sum(count for _, count in row.histogram)
        assert row.median_s == pytest.approx(statistics.median(values))
        assert row.p90_s == pytest.approx(quantile(values, 0.9))


async def test_rollups_equal_a_recount_after_a_realistic_mix(store: Store) -> None:
    rng = random.Random(15)
    mix = await run_mix(store, rng, random_ops(rng, 160))
    counted = await recount(store)
    assert sum(counted.finished.values()) > 3 and counted.cycles and counted.expiries
    assert sum(counted.releases.values()) > 0
    await check_throughput(store, mix, MANAGER)
    for name, group in USERS.items():
        await check_throughput(
            store, mix, User(name=name, role=Role.ANNOTATOR, password_hash="", group=group)
        )
    await check_people_and_cycles(store, mix)


async def test_an_annotator_sees_only_their_own_numbers(store: Store) -> None:
    rng = random.Random(7)
    mix = await run_mix(store, rng, random_ops(rng, 60))
    alice = User(name="alice", role=Role.ANNOTATOR, password_hash="", group="g1")
    people = await stats_activity.people(
        store=store,  # type: ignore[arg-type]
        viewer=alice,
        stats=whole_range(mix),
        finished=FINISHED,
    )
    assert [row.user for row in people.people] == ["alice"] and people.groups == []
    counted = await recount(store)
    cycles = await stats_activity.cycle_time(
        store=store,  # type: ignore[arg-type]
        viewer=alice,
        stats=whole_range(mix),
        finished=FINISHED,
    )
    assert sum(t.count for t in cycles.types) == sum(1 for c in counted.cycles if c[2] == "alice")


async def test_buckets_are_whole_utc_hours_and_days_with_zeros(store: Store) -> None:
    mix = Mix(store)
    await mix.advance(HOUR_S * 2 + 10)  # nothing in the first two hours
    await mix.message(None, kind="register", status="")
    await mix.advance(HOUR_S)
    result = await stats_activity.throughput(
        store=store,  # type: ignore[arg-type]
        viewer=MANAGER,
        stats=StatsFilter(since=T0 + 5, until=T0 + 3 * HOUR_S),
        bucket="hour",
        finished=FINISHED,
    )
    assert (result.since, result.until) == (T0, T0 + 3 * HOUR_S)
    assert [(b.start, b.created, b.unclaimed) for b in result.buckets] == [
        (T0, 0, 0),
        (T0 + HOUR_S, 0, 0),
        (T0 + 2 * HOUR_S, 1, 1),
    ]
    filtered = await stats_activity.throughput(
        store=store,  # type: ignore[arg-type]
        viewer=MANAGER,
        stats=StatsFilter(since=T0, until=T0 + 3 * HOUR_S, project="p9"),
        bucket="hour",
        finished=FINISHED,
    )
    assert all(b.created == b.unclaimed == 0 for b in filtered.buckets)
    with pytest.raises(BadRequest):
        await stats_activity.throughput(
            store=store,  # type: ignore[arg-type]
            viewer=MANAGER,
            stats=StatsFilter(since=T0, until=T0 + 801 * HOUR_S),
            bucket="hour",
            finished=FINISHED,
        )


def test_window_refuses_bad_ranges() -> None:
    bad = ((2.0, 1.0), (float("nan"), None), (None, float("inf")), (1e300, 1e300), (-1e12, 0))
    for since, until in bad:
        with pytest.raises(BadRequest):
            stats_activity.window(since=since, until=until, default_span_s=60, size_s=60, now=100)
    # By default, that many whole buckets up to the one holding now.
    default = stats_activity.window(since=None, until=None, default_span_s=120, size_s=60, now=100)
    assert default == (0, 100)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(OPS), st.floats(min_value=0, max_value=4000)),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_rollups_equal_a_recount_after_any_mix(ops: list[tuple[str, float]], seed: int) -> None:
    """Property: on the embedded store, after any mix, every number equals the recount."""

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            store = await open_store(f"sqlite:///{folder}/p.db")
            try:
                for name, group in USERS.items():
                    await store.accounts.add_user(
                        User(name=name, role=Role.ANNOTATOR, password_hash="x", group=group)
                    )
                mix = await run_mix(store, random.Random(seed), ops)
                await check_throughput(store, mix, MANAGER)
                await check_people_and_cycles(store, mix)
                assert hour_of(mix.now) in mix.queue_at or mix.queue_at
            finally:
                await store.aclose()

    asyncio.run(run())


async def forget_rollups(url: str) -> None:
    """Make the store at `url` one from before the rollups (its tasks and history kept)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            for kind, name in conn.execute(
                "SELECT type, name FROM sqlite_master"
                " WHERE name LIKE 'activity%' AND type != 'index'"
            ).fetchall():
                conn.execute(f"DROP {kind} {name}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        db = client.get_default_database()
        for name in await db.list_collection_names():
            if name.startswith("activity_"):
                await db.drop_collection(name)
        await db.counters.delete_one({"_id": "activity_rollups"})
    finally:
        await client.close()


@pytest.mark.parametrize("backend", ["sqlite", "mongo"])
async def test_history_stored_before_the_rollups_is_rolled_up(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A store from before the rollups gets them from its history (the queue's total exact)."""
    url = (
        request.getfixturevalue("mongo_url")
        if backend == "mongo"
        else f"sqlite:///{tmp_path / 'old.db'}"
    )
    store = await open_store(url)
    try:
        mix = await run_mix(store, random.Random(3), random_ops(random.Random(3), 80))
        before = await stats_activity.throughput(
            store=store,  # type: ignore[arg-type]
            viewer=MANAGER,
            stats=whole_range(mix),
            bucket="hour",
            finished=FINISHED,
        )
    finally:
        await store.aclose()
    await forget_rollups(url)
    store = await open_store(url)
    try:
        after = await stats_activity.throughput(
            store=store,  # type: ignore[arg-type]
            viewer=MANAGER,
            stats=whole_range(mix),
            bucket="hour",
            finished=FINISHED,
        )
        people = await stats_activity.people(
            store=store,  # type: ignore[arg-type]
            viewer=MANAGER,
            stats=whole_range(mix),
            finished=FINISHED,
        )
        counted = await recount(store)
    finally:
        await store.aclose()
    counts = [(b.start, b.created, b.claimed, b.finished) for b in after.buckets]
    assert counts == [(b.start, b.created, b.claimed, b.finished) for b in before.buckets]
    assert after.buckets[-1].unclaimed == before.buckets[-1].unclaimed
    for row in people.people:
        assert (row.counts.holding, row.counts.releases, row.counts.expiries) == (
            counted.holding[row.user],
            counted.releases[row.user],
            counted.expiries[row.user],
        )
