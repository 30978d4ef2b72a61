"""Probe: where an ingest batch spends its time (not a benchmark: no baseline, no figures).

Runs TaskDash in this process on a real nsqd with N taskRegister messages waiting, and times
each consumer batch (arrival of its first message → start of its apply → end, FIN included)
and each commit of the SQLite writer. WORKERS, MAX_BATCH and the interpreter's switch interval
can be varied to see what the pipeline is bound by.
Run: WORKERS=2 MAX_BATCH=500 .venv/bin/python bench/probes/ingest_stages.py [N] [SWITCH_S]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.servers import Nsqd
from tests.support import TOPICS, LiveServer, make_settings, task_body, wait_until

import taskdash.messaging.nsq_consumer as consumer
import taskdash.store.sqlite.db as sqlite_db

arrivals: dict[bytes, float] = {}
batches: list[tuple[float, float, float, int]] = []
commits: list[tuple[float, float, int]] = []


def instrument() -> None:
    receiver, apply, commit = (
        consumer.NsqConsumer._receiver,
        consumer.NsqConsumer._apply,
        sqlite_db.SqliteDb._commit_batch,
    )

    def timed_receiver(self: Any, topic: str) -> Any:
        inner = receiver(self, topic)

        def receive(message: Any) -> None:
            arrivals[message.id] = time.perf_counter()
            inner(message)

        return receive

    async def timed_apply(self: Any, batch: list[Any]) -> None:
        started = time.perf_counter()
        first = min(arrivals.get(message.id, started) for message, _ in batch)
        await apply(self, batch)
        batches.append((first, started, time.perf_counter(), len(batch)))

    def timed_commit(self: Any, batch: list[Any]) -> None:
        started = time.perf_counter()
        commit(self, batch)
        commits.append((started, time.perf_counter(), len(batch)))

    consumer.NsqConsumer._receiver = timed_receiver  # type: ignore[method-assign]
    consumer.NsqConsumer._apply = timed_apply  # type: ignore[method-assign]
    sqlite_db.SqliteDb._commit_batch = timed_commit  # type: ignore[method-assign]


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(len(ordered) * 0.9)]
    return f"median {statistics.median(ordered) * 1000:.1f} p90 {p90 * 1000:.1f} ms"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    switch = float(sys.argv[2]) if len(sys.argv) > 2 else sys.getswitchinterval()
    sys.setswitchinterval(switch)
    consumer.WORKERS = int(os.environ.get("WORKERS", consumer.WORKERS))
    consumer.MAX_BATCH = int(os.environ.get("MAX_BATCH", consumer.MAX_BATCH))
    instrument()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        nsqd = Nsqd(tmp / "nsqd", node_id=1).start()
        try:
            for topic in TOPICS:
                nsqd.create_channel(topic, "taskdash")
            bodies = [json.dumps(task_body(f"{n:06d}")).encode() for n in range(count)]
            for start in range(0, count, 2000):
                nsqd.mpub("taskRegister", bodies[start : start + 2000])
            settings = make_settings(tmp, nsqd_tcp_addresses=[nsqd.tcp_address], events_topic="")
            server = LiveServer(settings).start()
            try:
                wait_until(lambda: sum(b[3] for b in batches) >= count, timeout_s=600, step_s=0.2)
            finally:
                server.stop()
        finally:
            nsqd.stop()
    span = batches[-1][2] - batches[0][0]
    print(
        f"workers {consumer.WORKERS}, max batch {consumer.MAX_BATCH}, switch interval"
        f" {switch * 1000:g} ms: {count / span:,.0f} msg/s over {span:.2f} s;"
        f" {len(batches)} batches of median {statistics.median(b[3] for b in batches):.0f}"
    )
    print("waiting for a worker:", ms([b[1] - b[0] for b in batches]))
    print("apply (parse, write, FIN):", ms([b[2] - b[1] for b in batches]))
    busy = sum(c[1] - c[0] for c in commits)
    print(
        f"writer: {len(commits)} commits, busy {busy:.2f} s ({busy / span:.0%} of the run),"
        f" commit {ms([c[1] - c[0] for c in commits])}"
    )


if __name__ == "__main__":
    main()
