"""Probe: CPU time per task message of parsing and of the SQLite merge, in this process.

Not a benchmark (no baseline): it measures what the ingest path costs without NSQ, in CPU time
(time.process_time, every thread of the process), which moves far less than wall time on a
shared machine. N taskRegister bodies as a Go service writes them are parsed and applied in
batches of BATCH to a fresh SQLite store (each batch a durable write, as the consumer does),
then N updateStatus bodies for the same tasks; three rounds, medians printed.
Run: .venv/bin/python bench/probes/ingest_cpu.py [N] [BATCH]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support import task_body

from taskdash.domain.events import parse_task_message
from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.store import open_store

ROUNDS = 3


def bodies(count: int, run: int, status: str) -> list[bytes]:
    return [
        json.dumps(task_body(f"r{run}-{n:07d}", created=1_600_000_000 + n, status=status)).encode()
        for n in range(count)
    ]


async def apply_all(store_url: str, count: int, batch: int, run: int) -> dict[str, float]:
    """CPU µs per message: creating tasks (parse, apply), of which parsing; then updating them."""
    store = await open_store(store_url)
    cpu = {"create": 0.0, "parse": 0.0, "update": 0.0}
    try:
        for kind, status, ts_ns in (("register", "", 1), ("update", "编辑中", 2)):
            messages = bodies(count, run, status)
            started = time.process_time()
            for first in range(0, count, batch):
                parse_started = time.process_time()
                envelopes = [
                    TaskMessageEnvelope(kind=kind, message=parse_task_message(body), ts_ns=ts_ns)
                    for body in messages[first : first + batch]
                ]
                if kind == "register":
                    cpu["parse"] += time.process_time() - parse_started
                await store.tasks.apply_messages(envelopes=envelopes, now=time.time())
            cpu["create" if kind == "register" else "update"] += time.process_time() - started
    finally:
        await store.aclose()
    return {name: seconds / count * 1e6 for name, seconds in cpu.items()}


async def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with tempfile.TemporaryDirectory() as tmp:
        rounds = [
            await apply_all(f"sqlite:///{tmp}/ingest{run}.db", count, batch, run)
            for run in range(ROUNDS)
        ]
    for name, label in (
        ("create", "create (parse + apply)"),
        ("parse", "  of which parse"),
        ("update", "update (parse + apply)"),
    ):
        values = [round(r[name], 1) for r in rounds]
        print(f"{label}: {statistics.median(values):.1f} µs CPU/msg {values}")


if __name__ == "__main__":
    asyncio.run(main())
