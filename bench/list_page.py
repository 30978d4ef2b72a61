"""A GetTasksNoUser page with N tasks in the store, against the store's own query for it.

Run: .venv/bin/python bench/list_page.py [N] [REQUESTS] [sqlite,mongo]
(mongo: MongoDB served by a FerretDB started for the run, measured in the same run as SQLite)
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from common import median, percentile, report
from tests.ferretdb import FerretDb
from tests.support import LiveServer, make_settings, task_body

from taskdash.actions.tasks import unclaimed_query
from taskdash.domain.events import parse_task_message
from taskdash.domain.models import Role, TaskQuery, User
from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.settings import Settings
from taskdash.store import open_store

BATCH = 5000


async def load(store_url: str, count: int) -> float:
    """Fill the store through its own ingest path; returns seconds taken."""
    store = await open_store(store_url)
    started = time.perf_counter()
    try:
        for start in range(0, count, BATCH):
            envelopes = [
                TaskMessageEnvelope(
                    kind="register",
                    message=parse_task_message(
                        json.dumps(
                            task_body(
                                f"{n:07d}",
                                created=1_600_000_000 + n,
                                task_type=("satEdit", "vidEdit")[n % 2],
                            )
                        ).encode()
                    ),
                    ts_ns=time.time_ns(),
                )
                for n in range(start, min(count, start + BATCH))
            ]
            await store.tasks.apply_messages(envelopes, now=time.time())
        return time.perf_counter() - started
    finally:
        await store.aclose()


async def store_query_ms(store_url: str, limit: int, requests: int) -> list[float]:
    store = await open_store(store_url)
    user = User(name="smq", role=Role.ANNOTATOR, password_hash="", group="")
    try:
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            await store.tasks.find(unclaimed_query(user, TaskQuery(limit=limit), ()))
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        await store.aclose()


def measure(settings: Settings, count: int, requests: int, label: str) -> None:
    seconds = asyncio.run(load(settings.store_url, count))
    print(f"{label}: loaded {count:,} tasks in {seconds:.1f} s ({count / seconds:,.0f} tasks/s)")
    server = LiveServer(settings).start()
    try:
        server.add_user("smq")
        client = server.login("smq")
        for limit in (50, 1000):
            body = {"operation": "GetTasksNoUser", "limit": limit}
            for _ in range(10):  # warm up
                client.post("/rpost/task", json=body)
            api = []
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.post("/rpost/task", json=body)
                api.append((time.perf_counter() - started) * 1000)
                assert len(answer.json()) == limit
            own = asyncio.run(store_query_ms(settings.store_url, limit, requests))
            print(
                f"{label} limit {limit}: api p50 {median(api):.2f} ms p99"
                f" {percentile(api, 99):.2f} ms; store p50 {median(own):.2f} ms p99"
                f" {percentile(own, 99):.2f} ms"
            )
            report(
                f"get_tasks_no_user_{label}_{count}_limit_{limit}_p50",
                median(api),
                "ms",
                median(api) / median(own),
                "store query",
            )
    finally:
        server.stop()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    backends = (sys.argv[3] if len(sys.argv) > 3 else "sqlite").split(",")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for backend in backends:
            if backend == "mongo":
                ferretdb = FerretDb(tmp / "ferretdb").start()
                try:
                    measure(
                        make_settings(tmp, store_url=ferretdb.url("bench")),
                        count,
                        requests,
                        "mongo",
                    )
                finally:
                    ferretdb.stop()
            else:
                measure(make_settings(tmp), count, requests, "sqlite")


if __name__ == "__main__":
    main()
