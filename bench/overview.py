"""Overview: every /api/v1/stats path at 10 k, 100 k and 1 M tasks in the store.

The store is filled through its own ingest path (bench/common.py's loading: 7 projects, 2 task
types), up to each size in turn, and a share of the tasks is then claimed, finished and put in
groups straight in the store so that the counts have several statuses, users and groups. At each
size a fresh `taskdash serve` answers REQUESTS calls of each path in STATS_PATHS as a manager
(who sees everything), on one keep-alive connection. Baselines in the same run: the store's own
recount (a GROUP BY / aggregation over every task, what the counts replace), and a bare FastAPI
endpoint answering the same bytes (bench/bare_app.py).
Run: .venv/bin/python bench/overview.py [--quick] [SIZES] [REQUESTS] [sqlite|mongo]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from common import (
    bare_server,
    fresh_store,
    load,
    login_cookie,
    median,
    note,
    percentile,
    quick_flag,
    report,
    taskdash,
    timed_requests,
)
from tests.support import PASSWORD

from taskdash.actions.accounts import create_user
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import Role, Task, TaskQuery
from taskdash.domain.ports import AssignChange, CountScope, TaskMessageEnvelope
from taskdash.store import open_store

# Every stats path the overview page calls (the lead adds the others at merge).
STATS_PATHS = {"projects": "/api/v1/stats/projects"}
START_TIMEOUT_S = 900.0
RECOUNT_RUNS = 5  # the recount reads every task: a few runs give its median
CHANGED_PER_SIZE = 300  # tasks claimed, finished or grouped after each load


async def prepare(store_url: str) -> None:
    store = await open_store(store_url)
    try:
        await create_user(store=store, name="boss", role=Role.MANAGER, password=PASSWORD)
    finally:
        await store.aclose()


async def vary(store_url: str, first: int) -> None:
    """Claim, release or finish some of the newest tasks, in groups, through the store."""
    store = await open_store(store_url)
    now = time.time()
    try:
        page = await store.tasks.find(TaskQuery(limit=CHANGED_PER_SIZE, offset=first))
        finished = []
        for n, task in enumerate(page):
            change = AssignChange(user=f"user{n % 20}", group=("g1", "g2", "")[n % 3])
            await store.tasks.assign(task_id=task.id, change=change, actor="bench", now=now)
            if n % 3 == 0:
                await store.tasks.release(
                    task_id=task.id, holder=None, actor="bench", action="release", now=now
                )
            elif n % 3 == 1:
                finished.append(finished_message(task))
        await store.tasks.apply_messages(envelopes=finished, now=now)
    finally:
        await store.aclose()


def finished_message(task: Task) -> TaskMessageEnvelope:
    message = TaskMessage(
        id=task.id,
        project_id=task.project_id,
        instance_id=task.instance_id,
        task_id=task.task_id,
        status="已完成",
        task_type=task.type,
        url=task.url,
        edit_info=task.edit_info,
        create_time=task.time,
    )
    return TaskMessageEnvelope(kind="update", message=message, ts_ns=time.time_ns())


async def recount_ms(store_url: str) -> list[float]:
    """The store's recount of what the projects panel shows (what the counts replace)."""
    store = await open_store(store_url)
    try:
        timings = []
        for _ in range(RECOUNT_RUNS):
            started = time.perf_counter()
            await store.task_counts.recount(scope=CountScope(), project=None, task_type=None)
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        await store.aclose()


def measure_size(
    tmp: Path, store_url: str, backend: str, size: int, requests: int, bare_port: int
) -> None:
    with taskdash(tmp, store_url, start_timeout_s=START_TIMEOUT_S) as server:
        cookie = login_cookie(server.url, "boss")
        gets = {name: ("GET", path, None) for name, path in STATS_PATHS.items()}
        measured = asyncio.run(timed_requests(server.port, cookie, gets, requests))
    recount = asyncio.run(recount_ms(store_url))
    for name, (timings, body) in measured.items():
        httpx.put(f"http://127.0.0.1:{bare_port}/_body", content=body)
        bare = asyncio.run(timed_requests(bare_port, "", {name: gets[name]}, requests))[name][0]
        p50, p99 = median(timings), percentile(timings, 99)
        report(f"stats_{name}_{backend}_{size}_p50", p50, "ms", p50 / median(recount), "recount")
        report(
            f"stats_{name}_{backend}_{size}_p99",
            p99,
            "ms",
            p99 / percentile(bare, 99),
            "bare FastAPI same bytes",
        )
        note(
            f"stats {name} {backend} {size:,}: recount p50 {median(recount):.1f} ms;"
            f" bare FastAPI p50 {median(bare):.2f} ms; answer {len(body):,} bytes"
        )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = quick_flag()
    default_sizes = "10000,100000" if quick else "10000,100000,1000000"
    sizes = [int(s) for s in (args[0] if args else default_sizes).split(",")]
    requests = int(args[1]) if len(args) > 1 else (200 if quick else 1000)
    backend = args[2] if len(args) > 2 else "sqlite"
    with tempfile.TemporaryDirectory() as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        store_url = fresh_store(stack, tmp, backend, "overview")
        bare = stack.enter_context(bare_server(tmp))
        asyncio.run(prepare(store_url))
        loaded, load_seconds = 0, 0.0
        for size in sizes:
            seconds = load(store_url, loaded, size)
            load_seconds += seconds
            note(
                f"overview {backend}: loaded tasks {loaded:,}..{size:,} in {seconds:.1f} s"
                f" ({(size - loaded) / seconds:,.0f} tasks/s, counts kept); {load_seconds:.1f} s"
            )
            asyncio.run(vary(store_url, loaded))
            loaded = size
            measure_size(tmp, store_url, backend, size, requests, bare.port)


if __name__ == "__main__":
    main()
