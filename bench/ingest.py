"""Ingest: N taskRegister messages via nsqd → durable in the store, against a bare pynsq Reader.

Both read the same nsqd, the same number of messages of the same size, with the same
max_in_flight; the bare Reader FINs each message without doing anything (the ceiling). With
`mongo` as third argument the store is MongoDB (a FerretDB started for the run), not SQLite.
PROCESSES is one count or several (`1,2`): for each, that many `taskdash serve` processes share
the channel and the store, as instances do, on a fresh store with the same messages; with
several counts the last is also reported against the first.
Run: .venv/bin/python bench/ingest.py [N] [RUNS] [sqlite|mongo] [PROCESSES]
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from common import median, report, taskdash
from pymongo import MongoClient
from tests.ferretdb import FerretDb
from tests.servers import Nsqd
from tests.support import TOPICS, task_body, wait_until

from taskdash.messaging.nsq_connection import connection_options
from taskdash.settings import Settings


def bodies(count: int, run: int) -> list[bytes]:
    return [json.dumps(task_body(f"r{run}-{n:06d}")).encode() for n in range(count)]


def publish(nsqd: Nsqd, topic: str, messages: list[bytes]) -> None:
    for start in range(0, len(messages), 2000):
        nsqd.mpub(topic, messages[start : start + 2000])


def bare_reader_seconds(nsqd: Nsqd, topic: str, count: int) -> float:
    """Seconds from a bare pynsq Reader's first message to its last (all FINed on return)."""
    import logging

    import nsq

    logging.getLogger("nsq").setLevel(logging.ERROR)  # not its "connection closed" at the end
    seen = 0
    elapsed = 0.0

    async def main() -> None:
        nonlocal elapsed
        done = asyncio.Event()
        started = 0.0

        def handle(message: object) -> bool:
            nonlocal seen, started
            seen += 1
            if seen == 1:
                started = time.perf_counter()
            if seen == count:
                done.set()
            return True

        reader = nsq.Reader(
            topic=topic,
            channel="bare",
            message_handler=handle,
            nsqd_tcp_addresses=[nsqd.tcp_address],
            max_in_flight=Settings().nsq_max_in_flight,
            # The same connection options as TaskDash's (output buffering 25 ms). Closing the
            # Reader at the end logs "failed to unpack size": pynsq's read of the closed socket.
            **connection_options(Settings()),
        )
        await done.wait()
        elapsed = time.perf_counter() - started
        reader.close()

    asyncio.run(main())
    return elapsed


def stored_count(store_url: str) -> int:
    """How many tasks are stored (polled: cheap on SQLite, a scan on FerretDB, whose estimated
    count is PostgreSQL's table statistics and may lag the writes for minutes)."""
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            return int(conn.execute("SELECT count(*) FROM tasks").fetchone()[0])
    with MongoClient(store_url, serverSelectionTimeoutMS=2000) as client:
        return client.get_default_database()["tasks"].count_documents({})


def write_span(store_url: str) -> tuple[float, float]:
    """When the first and the last stored task were written."""
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            first, last = conn.execute(
                "SELECT min(updated_at), max(updated_at) FROM tasks"
            ).fetchone()
            return float(first), float(last)
    with MongoClient(store_url, serverSelectionTimeoutMS=2000) as client:
        times = [
            doc["updated_at"]
            for doc in client.get_default_database()["tasks"].find({}, {"updated_at": 1})
        ]
        return float(min(times)), float(max(times))


def taskdash_seconds(nsqd: Nsqd, tmp: Path, count: int, store_url: str, processes: int) -> float:
    """Seconds from the first stored task to the last, with `processes` `taskdash serve`
    processes on the channel and the store (start-up is not counted, as the bare Reader's
    connecting is not)."""
    env = {"TASKDASH_NSQD_TCP_ADDRESSES": nsqd.tcp_address, "TASKDASH_EVENTS_TOPIC": ""}
    with ExitStack() as servers:
        for _ in range(processes):
            servers.enter_context(taskdash(tmp, store_url, env))
        # Poll gently (the poller shares the machine); the writes' own times give the figure.
        step = 0.2 if store_url.startswith("sqlite:") else 1.0
        wait_until(lambda: stored_count(store_url) >= count, timeout_s=900, step_s=step)
        first, last = write_span(store_url)
        return last - first


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    backend = sys.argv[3] if len(sys.argv) > 3 else "sqlite"
    counts = [int(n) for n in (sys.argv[4] if len(sys.argv) > 4 else "1").split(",")]
    bare: list[float] = []
    ours: dict[int, list[float]] = {processes: [] for processes in counts}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        nsqd = Nsqd(tmp / "nsqd", node_id=1).start()
        ferretdb = FerretDb(tmp / "ferretdb", durable=True).start() if backend == "mongo" else None
        try:
            for run in range(runs):
                nsqd.create_channel("bare", "bare")
                publish(nsqd, "bare", bodies(count, run))
                bare.append(bare_reader_seconds(nsqd, "bare", count))
                rates = [f"bare {count / bare[-1]:,.0f} msg/s"]
                for topic in TOPICS:
                    nsqd.create_channel(topic, "taskdash")
                for processes in counts:
                    publish(nsqd, "taskRegister", bodies(count, run))
                    run_dir = tmp / f"run{run}-{processes}"
                    run_dir.mkdir()
                    store_url = (
                        ferretdb.url(f"bench{run}p{processes}")
                        if ferretdb
                        else f"sqlite:///{run_dir / 'taskdash.db'}"
                    )
                    seconds = taskdash_seconds(nsqd, run_dir, count, store_url, processes)
                    ours[processes].append(seconds)
                    rates.append(f"taskdash × {processes} {count / seconds:,.0f} msg/s")
                print(f"# run {run + 1}: {', '.join(rates)}", flush=True)
        finally:
            nsqd.stop()
            if ferretdb:
                ferretdb.close()
    bare_rate = count / median(bare)
    report(f"ingest_{backend}_{count}_bare_reader", bare_rate, "msg/s", 1.0, "bare pynsq Reader")
    rate = {processes: count / median(ours[processes]) for processes in counts}
    for processes in counts:
        name = f"ingest_{backend}_{count}" + (f"_{processes}_processes" if processes > 1 else "")
        report(name, rate[processes], "msg/s", rate[processes] / bare_rate, "bare pynsq Reader")
    if len(counts) > 1:
        first, last = counts[0], counts[-1]
        report(
            f"ingest_{backend}_{count}_{last}_over_{first}_processes",
            rate[last],
            "msg/s",
            rate[last] / rate[first],
            f"{first} process{'es' if first > 1 else ''}",
        )


if __name__ == "__main__":
    main()
