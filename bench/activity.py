"""Activity statistics: p50/p99 of /api/v1/stats/throughput, people, cycle-time at 10 k..1 M tasks.

The store (SQLite) is filled with 60 days of work ending now by the store's own task
repository (so the rollups' triggers fire as in production; one connection, no fsync, an hour
per commit): tasks arrive spread over every hour; 70 % are claimed by one of 50 annotators
(5 groups) within three hours, 5 % of those released again, and the rest finished by their
service (编辑中, then 已完成) minutes to days later. At each size a fresh `taskdash serve`
answers REQUESTS calls of each endpoint with its default range (throughput by hour and by day)
for a manager, on one keep-alive connection. Baseline in the same run: the same statistics
computed in this process from the store (the action without HTTP). Target: p99 <= 200 ms at
1 M tasks.
Run: .venv/bin/python bench/activity.py [--quick] [--bulk] [--keep=DB] [SIZES] [REQUESTS]
(--keep: the store file to fill and keep, e.g. to profile queries; it must not exist;
--bulk: each size written as rows and rolled up by the migration, see bulk_load)
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from common import median, note, percentile, quick_flag, report, taskdash
from loadgen import Connection
from tests.support import PASSWORD

from taskdash.actions import stats_activity
from taskdash.actions.accounts import create_user
from taskdash.domain.activity import DAY_S, HOUR_S
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import CLAIMED, UNCLAIMED, Role, Task, User
from taskdash.domain.ports import ClaimRules, TaskMessageEnvelope
from taskdash.domain.rules import new_task_from_message
from taskdash.store import open_store
from taskdash.store.sqlite.db import connect
from taskdash.store.sqlite.schema import SCHEMA_VERSION
from taskdash.store.sqlite.task_rows import COLUMNS, EVENT_COLUMNS, task_to_row
from taskdash.store.sqlite.tasks import SqliteTaskRepo

T = TypeVar("T")
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


class InlineDb:
    """The store's writes run on one connection inside the loader's own transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self.conn.execute("SAVEPOINT w")
        try:
            result = fn(self.conn)
        except BaseException:
            self.conn.execute("ROLLBACK TO w")
            self.conn.execute("RELEASE w")
            raise
        self.conn.execute("RELEASE w")
        return result

    read = write


async def run_events(tasks: SqliteTaskRepo, conn: sqlite3.Connection, events: list[Event]) -> None:
    """Apply the events hour by hour (one transaction each), each kind of an hour together.

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
        conn.execute("BEGIN IMMEDIATE")
        for kind, chunk in kinds.items():
            await apply_kind(tasks, kind, chunk, hour)
        conn.execute("COMMIT")


async def apply_kind(tasks: SqliteTaskRepo, kind: str, chunk: list[Event], hour: int) -> None:
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
        await tasks.apply_messages(envelopes=envelopes, now=at)
    elif kind == "claim":
        for t, _, _, n in chunk:
            await tasks.claim(task_id=f"t{n:07d}", rules=claimant(n), now=t)
    else:
        for t, _, _, n in chunk:
            await tasks.release(
                task_id=f"t{n:07d}", holder=None, actor="boss", action="release", now=t
            )


async def load(store_url: str, first: int, stop: int, end_hour: int) -> float:
    """Fill the store with tasks first..stop-1 and their history through the store's code.

    The store's own task repository writes every change (merges, claims, releases, and so
    the triggers keeping the rollups), on one connection without fsync, an hour per commit:
    how it is made durable does not change what the statistics read.
    """
    began = time.perf_counter()
    await _accounts(store_url, add=first == 0)  # (and the store migrated)
    conn = connect(store_url.removeprefix("sqlite:///"))
    try:
        conn.execute("PRAGMA synchronous=OFF")
        tasks = SqliteTaskRepo(InlineDb(conn))  # type: ignore[arg-type]
        events = plan(first, stop, end_hour=end_hour, rng=random.Random(first))
        await run_events(tasks, conn, events)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - began


def bulk_load(path: Path, size: int, end_hour: int) -> float:
    """Fill a new store as one from before the rollups, then let their migration roll it up.

    The tasks and history lines the same plan makes are written as rows (as the store writes
    them) without the triggers, then the store is opened: its migration rolls up the stored
    history set-wise in SQLite (the upgrade path; a test checks it matches the triggers).
    Minutes at 1 M tasks where replaying every change through the repository takes an hour.
    """
    began = time.perf_counter()
    asyncio.run(_accounts(f"sqlite:///{path}"))
    tasks: dict[int, Task] = {}
    lines: list[tuple[object, ...]] = []
    for at, _, kind, n in plan(0, size, end_hour=end_hour, rng=random.Random(0)):
        task_id = f"t{n:07d}"
        if kind == "create":
            ts_ns = int(at * 1e9)
            task = new_task_from_message(message(n, ""), kind="register", ts_ns=ts_ns, now=at)
            tasks[n] = task
            lines.append((task_id, at, "service", "create", "", UNCLAIMED, "", "", ""))
            continue
        task = tasks[n]
        before_status, before_user = task.status, task.user
        if kind == "claim":
            task.user, task.status, task.claimed_at = USERS[n % len(USERS)][0], CLAIMED, at
            actor, action = task.user, "claim"
        elif kind == "release":
            task.user, task.status, task.claimed_at = "", UNCLAIMED, None
            actor, action = "boss", "release"
        else:
            task.status, actor, action = kind, "service", "update"
        task.updated_at, task.rev = at, task.rev + 1
        to_user = before_user if actor == "service" else task.user
        from_user = "" if actor == "service" else before_user
        lines.append(
            (task_id, at, actor, action, before_status, task.status, from_user, to_user, "")
        )
    conn = connect(str(path))
    try:
        for name in ("activity_task_insert", "activity_task_update", "activity_line"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [task_to_row(task) for task in tasks.values()],
        )
        conn.executemany(
            f"INSERT INTO task_events ({', '.join(EVENT_COLUMNS[:-1])})"
            f" VALUES ({', '.join('?' * (len(EVENT_COLUMNS) - 1))})",
            lines,
        )
        for kind, name in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name LIKE 'activity%' AND type = 'table'"
        ).fetchall():
            conn.execute(f"DROP {kind} {name}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        conn.execute("COMMIT")
    finally:
        conn.close()
    asyncio.run(_accounts(f"sqlite:///{path}", add=False))  # migrates: rolls the history up
    return time.perf_counter() - began


async def _accounts(store_url: str, *, add: bool = True) -> None:
    store = await open_store(store_url)
    try:
        if add:
            await create_user(store=store, name="boss", role=Role.MANAGER, password=PASSWORD)
            for name, group in USERS:
                await create_user(
                    store=store, name=name, role=Role.ANNOTATOR, password=PASSWORD, group=group
                )
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
    bulk = "--bulk" in sys.argv[1:]
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
            if bulk:
                path = Path(f"{keep}-{size}") if keep else tmp / f"activity-{size}.db"
                store_url = f"sqlite:///{path}"
                seconds = bulk_load(path, size, end_hour)
                note(f"activity: {size:,} tasks written and rolled up in {seconds:.1f} s")
            else:
                seconds = asyncio.run(load(store_url, loaded, size, end_hour))
                note(f"activity: tasks {loaded:,}..{size:,} and history loaded in {seconds:.1f} s")
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
