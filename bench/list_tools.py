"""List tools at scale: totals (count=true), sorted pages, distinct values, the CSV export.

The store is filled through its own ingest path with N taskRegister messages (all unclaimed,
seven projects, two types), a tenth then held by one annotator. In this process, against the
store: each figure is the median time of REPEAT calls, next to the baseline of the same run, the
list's own page of 50 (CreateTime). Then a `taskdash serve` process streams the whole list as
CSV over HTTP: its rate, and the server's peak RSS against its RSS after one list page.
The index cost: the same load of LOAD_PROBE tasks with and without the list indexes added for
sorting (the ratio is their share of the load time).
Run: .venv/bin/python bench/list_tools.py [--quick] [N] (SQLite)
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from common import load, median, note, peak_rss_mb, quick_flag, report, taskdash
from tests.support import PASSWORD

from taskdash.actions import list_totals
from taskdash.actions.accounts import create_user
from taskdash.actions.tasks import list_page
from taskdash.domain.models import UNCLAIMED, Role, TaskQuery, User
from taskdash.domain.ports import AssignChange, Store
from taskdash.domain.task_sorts import SORTS, sort_key
from taskdash.store import open_store

REPEAT = 15
HELD = 1000  # a busy annotator's tasks, finished ones included
LOAD_RUNS = 3
PAGE = 50
SORT_INDEXES = ("tasks_updated", "tasks_user_time")
MANAGER = User(name="boss", role=Role.MANAGER, password_hash="")
ANNOTATOR = User(name="smq", role=Role.ANNOTATOR, password_hash="")


async def timed_ms(call: Callable[[], Awaitable[Any]]) -> float:
    """The median wall time of REPEAT calls (after one to warm the cache), in ms."""
    await call()
    timings = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - began) * 1000)
    return median(timings)


async def hold_some(store: Store, size: int) -> None:
    """HELD tasks (or a tenth) held by smq (assigned), so the annotator's list has two scopes."""
    held = 0
    query = TaskQuery(limit=1000, sort=SORTS["CreateTime"])
    while held < min(HELD, size // 10):
        page = await store.tasks.find(query)
        for task in page[::10]:
            change = AssignChange(user="smq", over_limit=True)
            await store.tasks.assign(task_id=task.id, change=change, actor="x", now=time.time())
            held += 1
        query = TaskQuery(limit=1000, after=sort_key(page[-1], query.sort))


async def measure_store(store_url: str, size: int) -> None:
    store = await open_store(store_url)
    try:
        await hold_some(store, size)
        await create_user(store=store, name="smq", role=Role.ANNOTATOR, password=PASSWORD)
        await create_user(store=store, name="boss", role=Role.MANAGER, password=PASSWORD)

        def page(user: User, **query: Any) -> Callable[[], Awaitable[Any]]:
            q = TaskQuery(limit=PAGE, **query)
            return lambda: list_page(store=store, user=user, query=q, unclaimed=False, online=None)

        def total(
            user: User, unclaimed: bool = False, **query: Any
        ) -> Callable[[], Awaitable[Any]]:
            q = TaskQuery(**query)
            return lambda: list_totals.count_visible(
                store=store, user=user, query=q, unclaimed=unclaimed, online=None
            )

        figures: dict[str, Callable[[], Awaitable[Any]]] = {
            "count_all_manager": total(MANAGER),
            "count_status_manager": total(MANAGER, status=UNCLAIMED),
            "count_project_manager": total(MANAGER, project_id="p3"),
            "count_visible_annotator": total(ANNOTATOR),
            "count_unclaimed_annotator": total(ANNOTATOR, unclaimed=True),
            "distinct_project_manager": lambda: list_totals.distinct_values(
                store=store, user=MANAGER, field="project"
            ),
            "distinct_project_annotator": lambda: list_totals.distinct_values(
                store=store, user=ANNOTATOR, field="project"
            ),
        }
        for name, fields in SORTS.items():
            figures[f"page_sort_{name}_manager"] = page(MANAGER, sort=fields, newest_first=True)
            figures[f"page_sort_{name}_annotator"] = page(ANNOTATOR, sort=fields)
        timings = {name: await timed_ms(call) for name, call in figures.items()}
        base = await timed_ms(page(MANAGER, newest_first=True))  # last: as warm as the rest
        baseline = f"a page of {PAGE} by CreateTime ({base:.2f} ms)"
        for name, ms in timings.items():
            report(f"lists_{name}_sqlite_{size}", ms, "ms", ms / base, baseline)
    finally:
        await store.aclose()


def measure_export(tmp: Path, store_url: str, size: int) -> None:
    """The whole list as CSV over HTTP from a served process: rate and the server's memory."""
    with taskdash(tmp, store_url) as server:
        client = httpx.Client(base_url=server.url, timeout=600)
        assert client.post("/api/v1/login", json={"username": "boss", "password": PASSWORD})
        assert client.get("/api/v1/tasks", params={"limit": PAGE}).status_code == 200
        after_page = peak_rss_mb(server.proc.pid)
        began, rows, sent = time.perf_counter(), 0, 0
        with client.stream("GET", "/api/v1/tasks/export.csv") as answer:
            for chunk in answer.iter_bytes():
                sent += len(chunk)
                rows += chunk.count(b"\n")  # no line break inside a cell here
        seconds = time.perf_counter() - began
        peak = peak_rss_mb(server.proc.pid)
        client.close()
    note(f"export: {rows - 1:,} rows, {sent / 1e6:,.0f} MB in {seconds:.1f} s")
    report(
        f"lists_export_csv_sqlite_{size}_rows_per_s",
        (rows - 1) / seconds,
        "rows/s",
        1.0,
        "itself (no baseline: a rate)",
    )
    report(
        f"lists_export_csv_sqlite_{size}_peak_rss",
        peak,
        "MB",
        peak / after_page,
        f"the server after one list page ({after_page:.0f} MB)",
    )


def measure_index_cost(tmp: Path, size: int) -> None:
    """Load time of `size` tasks with the sort indexes, against without them (the median of
    LOAD_RUNS loads each, alternating)."""
    runs: dict[bool, list[float]] = {False: [], True: []}
    for run in range(LOAD_RUNS):
        for with_indexes in (False, True):
            path = tmp / f"probe-{run}-{with_indexes}.db"
            asyncio.run(open_and_close(f"sqlite:///{path}"))
            if not with_indexes:
                with sqlite3.connect(path) as conn:
                    for index in SORT_INDEXES:
                        conn.execute(f"DROP INDEX {index}")
            runs[with_indexes].append(load(f"sqlite:///{path}", 0, size))
            path.unlink()
    seconds = {with_indexes: median(values) for with_indexes, values in runs.items()}
    report(
        f"lists_sort_indexes_load_{size}_tasks",
        size / seconds[True],
        "tasks/s",
        seconds[False] / seconds[True],
        f"the same load without {len(SORT_INDEXES)} sort indexes ({size / seconds[False]:,.0f} "
        "tasks/s)",
    )


async def open_and_close(url: str) -> None:
    await (await open_store(url)).aclose()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    size = int(args[0]) if args else (20_000 if quick_flag() else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        store_url = f"sqlite:///{tmp / 'lists.db'}"
        seconds = load(store_url, 0, size)
        note(f"lists: loaded {size:,} tasks in {seconds:.1f} s")
        asyncio.run(measure_store(store_url, size))
        measure_export(tmp, store_url, size)
        measure_index_cost(tmp, min(size, 100_000))


if __name__ == "__main__":
    main()
