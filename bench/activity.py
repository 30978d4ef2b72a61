"""Activity statistics: p50/p99 of /api/v1/stats/throughput, people, cycle-time at 10 k..1 M tasks.

The store (SQLite) is filled with 60 days of work ending now, through the store's own write
paths (so the rollups are kept as in production), one hour at a time: tasks arrive spread over
every hour; 70 % are claimed by one of 50 annotators (5 groups) within three hours, 5 % of
those released again, and the rest finished by their service (编辑中, then 已完成) minutes to
days later. At each size a fresh `taskdash serve` answers REQUESTS calls of each endpoint with
its default range (throughput by hour and by day) for a manager, on one keep-alive connection.
Baseline in the same run: the same statistics computed in this process from the store (the
action without HTTP). Target: p99 <= 200 ms at 1 M tasks.
Run: .venv/bin/python bench/activity.py [--quick] [--keep=DB] [SIZES] [REQUESTS] (--keep: the
store file to fill and keep, e.g. to profile queries; it must not exist)
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from common import median, note, percentile, quick_flag, report, taskdash
from loadgen import Connection
from tests.support import PASSWORD

from taskdash.actions import stats_activity
from taskdash.actions.accounts import create_user
from taskdash.domain.activity import DAY_S, HOUR_S
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import Role, User
from taskdash.domain.ports import ClaimRules, Store, TaskMessageEnvelope
from taskdash.store import open_store

SPAN_H = 60 * 24
USERS = [(f"u{n:02d}", f"g{n % 5}") for n in range(50)]
PROJECTS = [f"p{n}" for n in range(7)]
TYPES = ("satEdit", "vidEdit", "lidarEdit")
WARM_UP = 10
START_TIMEOUT_S = 900.0
ENDPOINTS = {
    "throughput_hour": "/api/v1/stats/throughput",
    "throughput_day": "/api/v1/stats/throughput?bucket=day",
    "people": "/api/v1/stats/people",
    "cycle_time": "/api/v1/stats/cycle-time",
}
Event = tuple[float, int, str, int]  # (time, order, kind, task number)


def plan(first: int, stop: int, *, end_hour: int, rng: random.Random) -> list[Event]:
    """What happens to tasks first..stop-1 and when, spread over SPAN_H hours before end."""
    start = end_hour - SPAN_H * HOUR_S
    events: list[Event] = []
    for n in range(first, stop):
        created = start + (n * 7919 % stop) / stop * SPAN_H * HOUR_S
        events.append((created, 0, "create", n))
        if rng.random() < 0.7:
            claimed = created + rng.uniform(60, 3 * HOUR_S)
            events.append((claimed, 1, "claim", n))
            if rng.random() < 0.05:
                events.append((claimed + rng.uniform(60, HOUR_S), 2, "release", n))
            else:
                done = claimed + rng.lognormvariate(8.5, 1.2)  # minutes to days, median ~80 min
                events.append(((claimed + done) / 2, 2, "编辑中", n))
                events.append((done, 3, "已完成", n))
    return sorted(e for e in events if e[0] < end_hour)


def message(n: int, status: str) -> TaskMessage:
    return TaskMessage(
        id=f"t{n:07d}",
        project_id=PROJECTS[n % len(PROJECTS)],
        instance_id="i",
        task_id=f"{n:07d}",
        status=status,
        task_type=TYPES[n % len(TYPES)],
        url="http://127.0.0.1:9/edit",
        create_time=1_600_000_000 + n,
    )


def claimant(n: int) -> ClaimRules:
    user, group = USERS[n % len(USERS)]
    return ClaimRules(
        user=user, user_group=group, max_claims=0, finished_statuses=("已完成",), offline_origins=()
    )


async def run_events(store: Store, events: list[Event]) -> None:
    """Apply the events hour by hour, each kind of an hour in one write (or one gather).

    Within an hour the kinds go in a task's own order (create, claim, release or 编辑中,
    已完成); messages of an hour are applied at its start (creates) or its end (status
    changes), claims and releases each at its own time.
    """
    by_hour: dict[int, list[Event]] = {}
    for event in events:
        by_hour.setdefault(int(event[0]) // HOUR_S * HOUR_S, []).append(event)
    for hour, hour_events in sorted(by_hour.items()):
        kinds: dict[str, list[Event]] = {}
        for event in sorted(hour_events, key=lambda e: (e[1], e[0])):
            kinds.setdefault(event[2], []).append(event)
        for kind, chunk in kinds.items():
            await apply_kind(store, kind, chunk, hour)


async def apply_kind(store: Store, kind: str, chunk: list[Event], hour: int) -> None:
    if kind in ("create", "编辑中", "已完成"):
        at = hour + 1 if kind == "create" else hour + HOUR_S - (2 if kind == "编辑中" else 1)
        envelopes = [
            TaskMessageEnvelope(
                kind="register" if kind == "create" else "update",
                message=message(n, "" if kind == "create" else kind),
                ts_ns=int(at * 1e9) + 1,
            )
            for _, _, _, n in chunk
        ]
        await store.tasks.apply_messages(envelopes=envelopes, now=at)
    elif kind == "claim":
        await asyncio.gather(
            *(
                store.tasks.claim(task_id=f"t{n:07d}", rules=claimant(n), now=t)
                for t, _, _, n in chunk
            )
        )
    else:
        await asyncio.gather(
            *(
                store.tasks.release(
                    task_id=f"t{n:07d}", holder=None, actor="boss", action="release", now=t
                )
                for t, _, _, n in chunk
            )
        )


async def load(store_url: str, first: int, stop: int, end_hour: int) -> float:
    store = await open_store(store_url)
    began = time.perf_counter()
    try:
        if first == 0:
            await create_user(store=store, name="boss", role=Role.MANAGER, password=PASSWORD)
            for name, group in USERS:
                await create_user(
                    store=store, name=name, role=Role.ANNOTATOR, password=PASSWORD, group=group
                )
        await run_events(store, plan(first, stop, end_hour=end_hour, rng=random.Random(first)))
        return time.perf_counter() - began
    finally:
        await store.aclose()


async def in_process_ms(store_url: str, requests: int) -> dict[str, list[float]]:
    """The same statistics from the store in this process (no HTTP): the baseline."""
    store = await open_store(store_url)
    boss = User(name="boss", role=Role.MANAGER, password_hash="")
    finished = ("已完成",)
    now = time.time()

    def stats(span_s: int, size_s: int = HOUR_S) -> stats_activity.StatsFilter:
        since, until = stats_activity.window(
            since=None, until=None, default_span_s=span_s, size_s=size_s, now=now
        )
        return stats_activity.StatsFilter(since=since, until=until)

    calls = {
        "throughput_hour": lambda: stats_activity.throughput(
            store=store, viewer=boss, stats=stats(2 * DAY_S), bucket="hour", finished=finished
        ),
        "throughput_day": lambda: stats_activity.throughput(
            store=store,
            viewer=boss,
            stats=stats(30 * DAY_S, DAY_S),
            bucket="day",
            finished=finished,
        ),
        "people": lambda: stats_activity.people(
            store=store, viewer=boss, stats=stats(7 * DAY_S), finished=finished
        ),
        "cycle_time": lambda: stats_activity.cycle_time(
            store=store, viewer=boss, stats=stats(30 * DAY_S), finished=finished
        ),
    }
    timings: dict[str, list[float]] = {}
    try:
        for name, call in calls.items():
            timings[name] = []
            for attempt in range(WARM_UP + requests):
                began = time.perf_counter()
                await call()  # type: ignore[no-untyped-call]
                if attempt >= WARM_UP:
                    timings[name].append((time.perf_counter() - began) * 1000)
        return timings
    finally:
        await store.aclose()


async def http_ms(port: int, requests: int) -> dict[str, list[float]]:
    connection = await Connection("127.0.0.1", port).open()
    try:
        login = await connection.request(
            "POST", "/api/v1/login", {"username": "boss", "password": PASSWORD}
        )
        assert login.status == 200, login.body
        timings: dict[str, list[float]] = {}
        for name, path in ENDPOINTS.items():
            timings[name] = []
            for attempt in range(WARM_UP + requests):
                answer, ms = await connection.timed("GET", path)
                assert answer.status == 200, answer.body
                if attempt >= WARM_UP:
                    timings[name].append(ms)
        return timings
    finally:
        await connection.close()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    keep = next((a[len("--keep=") :] for a in sys.argv[1:] if a.startswith("--keep=")), "")
    quick = quick_flag()
    sizes = [
        int(s)
        for s in (args[0] if args else ("10000" if quick else "10000,100000,1000000")).split(",")
    ]
    requests = int(args[1]) if len(args) > 1 else (50 if quick else 300)
    end_hour = int(time.time()) // HOUR_S * HOUR_S
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        store_url = f"sqlite:///{Path(keep) if keep else tmp / 'activity.db'}"
        loaded = 0
        for size in sizes:
            seconds = asyncio.run(load(store_url, loaded, size, end_hour))
            note(
                f"activity: loaded tasks {loaded:,}..{size:,} with their history in {seconds:.1f} s"
            )
            loaded = size
            with taskdash(tmp, store_url, start_timeout_s=START_TIMEOUT_S) as server:
                measured = asyncio.run(http_ms(server.port, requests))
            own = asyncio.run(in_process_ms(store_url, requests))
            for name, timings in measured.items():
                p50, p99 = median(timings), percentile(timings, 99)
                report(
                    f"stats_{name}_sqlite_{size}_p50",
                    p50,
                    "ms",
                    p50 / median(own[name]),
                    "in-process action",
                )
                report(f"stats_{name}_sqlite_{size}_p99", p99, "ms", p99 / 200.0, "target 200 ms")


if __name__ == "__main__":
    main()
