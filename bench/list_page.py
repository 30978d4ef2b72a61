"""List: a page of 50 unclaimed tasks at 10 k, 100 k and 1 M tasks in the store; and memory.

The store is filled through its own ingest path (batches of parsed taskRegister messages, as
the consumer applies them), up to each size in turn. At each size a fresh `taskdash serve`
process answers REQUESTS pages through `/rpost/task` (GetTasksNoUser) and through
`/api/v1/tasks?unclaimed=true`, one after another on one keep-alive connection. Baselines in the
same run: the store's own query for the same page (in this process), and a bare FastAPI
endpoint answering the same bytes (bench/bare_app.py). Memory: the server's peak RSS after its
list requests, against the same at the smallest size.
Run: .venv/bin/python bench/list_page.py [--quick] [SIZES] [REQUESTS] [sqlite|mongo]
(SIZES comma-separated; mongo: a FerretDB started for the run)
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
    WARM_UP,
    bare_server,
    fresh_store,
    load,
    login_cookie,
    median,
    note,
    peak_rss_mb,
    percentile,
    quick_flag,
    report,
    taskdash,
    timed_requests,
)
from tests.support import PASSWORD

from taskdash.actions.accounts import create_user
from taskdash.actions.tasks import unclaimed_query
from taskdash.domain.models import Role, TaskQuery, User
from taskdash.store import open_store

PAGE = 50
START_TIMEOUT_S = 900.0

ENDPOINTS = {
    "rpost": ("POST", "/rpost/task", {"operation": "GetTasksNoUser", "limit": PAGE}),
    "api": ("GET", f"/api/v1/tasks?unclaimed=true&limit={PAGE}", None),
}


async def add_annotator(store_url: str) -> None:
    store = await open_store(store_url)
    try:
        await create_user(store=store, name="smq", role=Role.ANNOTATOR, password=PASSWORD)
    finally:
        await store.aclose()


async def store_query_ms(store_url: str, requests: int) -> list[float]:
    """The store's own query for the page the API answers (as the API builds it)."""
    store = await open_store(store_url)
    user = User(name="smq", role=Role.ANNOTATOR, password_hash="", group="")
    try:
        timings = []
        for n in range(WARM_UP + requests):
            started = time.perf_counter()
            page = await store.tasks.find(unclaimed_query(user, TaskQuery(limit=PAGE), ()))
            if n >= WARM_UP:
                timings.append((time.perf_counter() - started) * 1000)
            assert len(page) == PAGE
        return timings
    finally:
        await store.aclose()


def measure_size(
    tmp: Path, store_url: str, size: int, requests: int, bare_port: int
) -> dict[str, object]:
    """Every figure at one size: API, store and bare latencies, and the server's peak RSS."""
    started = time.perf_counter()
    # Start-up completes history lines older than 30 s not yet swept: on FerretDB, where each
    # batch of that sweep sorts every such task, this takes minutes after a large load.
    with taskdash(tmp, store_url, start_timeout_s=START_TIMEOUT_S) as server:
        note(f"list {size:,}: taskdash serve answered after {time.perf_counter() - started:.1f} s")
        measured = asyncio.run(
            timed_requests(server.port, login_cookie(server.url, "smq"), ENDPOINTS, requests)
        )
        rss = peak_rss_mb(server.proc.pid)
    own = asyncio.run(store_query_ms(store_url, requests))
    bare: dict[str, list[float]] = {}
    for name, (_, body) in measured.items():
        httpx.put(f"http://127.0.0.1:{bare_port}/_body", content=body)
        bare[name] = asyncio.run(timed_requests(bare_port, "", ENDPOINTS, requests))[name][0]
    return {"api": {k: v[0] for k, v in measured.items()}, "store": own, "bare": bare, "rss": rss}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = quick_flag()
    default_sizes = "10000,100000" if quick else "10000,100000,1000000"
    sizes = [int(s) for s in (args[0] if args else default_sizes).split(",")]
    requests = int(args[1]) if len(args) > 1 else (200 if quick else 1000)
    backend = args[2] if len(args) > 2 else "sqlite"
    with tempfile.TemporaryDirectory() as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        store_url = fresh_store(stack, tmp, backend, "list")
        bare = stack.enter_context(bare_server(tmp))
        asyncio.run(add_annotator(store_url))
        loaded, load_seconds, first_rate = 0, 0.0, 0.0
        figures: dict[int, dict[str, object]] = {}
        for size in sizes:
            seconds = load(store_url, loaded, size)
            load_seconds += seconds
            first_rate = first_rate or size / seconds
            note(
                f"list {backend}: loaded tasks {loaded:,}..{size:,} in {seconds:.1f} s"
                f" ({(size - loaded) / seconds:,.0f} tasks/s); {load_seconds:.1f} s in all"
            )
            loaded = size
            figures[size] = measure_size(tmp, store_url, size, requests, bare.port)
            report_size(backend, size, figures[size])
        if len(sizes) > 1:
            report_growth(backend, sizes, figures)
        rss = float(figures[sizes[-1]]["rss"])  # type: ignore[arg-type]
        bare_rss = peak_rss_mb(bare.proc.pid)
        report(
            f"memory_serve_{backend}_{sizes[-1]}_peak_rss",
            rss,
            "MB",
            rss / bare_rss,
            f"bare FastAPI process ({bare_rss:.0f} MB)",
        )
        report(
            f"load_{backend}_{sizes[-1]}_tasks",
            sizes[-1] / load_seconds,
            f"tasks/s ({load_seconds:.1f} s)",
            (sizes[-1] / load_seconds) / first_rate,
            f"rate of the first {sizes[0]:,}",
        )


def report_size(backend: str, size: int, figure: dict[str, object]) -> None:
    api: dict[str, list[float]] = figure["api"]  # type: ignore[assignment]
    bare: dict[str, list[float]] = figure["bare"]  # type: ignore[assignment]
    own: list[float] = figure["store"]  # type: ignore[assignment]
    for name, timings in api.items():
        p50, p99 = median(timings), percentile(timings, 99)
        report(f"list_{name}_{backend}_{size}_p50", p50, "ms", p50 / median(own), "store query")
        report(
            f"list_{name}_{backend}_{size}_p99",
            p99,
            "ms",
            p99 / percentile(bare[name], 99),
            "bare FastAPI same bytes",
        )
    note(
        f"list {backend} {size:,}: store query p50 {median(own):.2f} ms p99"
        f" {percentile(own, 99):.2f} ms; bare FastAPI p50 {median(bare['api']):.2f} ms"
    )


def report_growth(backend: str, sizes: list[int], figures: dict[int, dict[str, object]]) -> None:
    smallest, largest = figures[sizes[0]], figures[sizes[-1]]
    for name in ENDPOINTS:
        p99_small = percentile(smallest["api"][name], 99)  # type: ignore[index]
        p99_large = percentile(largest["api"][name], 99)  # type: ignore[index]
        report(
            f"list_{name}_{backend}_p99_{sizes[-1]}_over_{sizes[0]}",
            p99_large,
            "ms",
            p99_large / p99_small,
            f"p99 at {sizes[0]:,}",
        )
    rss_small, rss_large = float(smallest["rss"]), float(largest["rss"])  # type: ignore[arg-type]
    report(
        f"memory_serve_{backend}_peak_rss_{sizes[-1]}_over_{sizes[0]}",
        rss_large,
        "MB",
        rss_large / rss_small,
        f"peak RSS at {sizes[0]:,}",
    )


if __name__ == "__main__":
    main()
