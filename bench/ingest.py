"""Ingest: N taskRegister messages via nsqd → durable in SQLite, against a bare pynsq Reader.

Both read the same nsqd, the same number of messages of the same size; the bare Reader FINs
each message without doing anything (the ceiling). Run: .venv/bin/python bench/ingest.py [N] [RUNS]
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from common import median, report
from tests.servers import Nsqd
from tests.support import TOPICS, LiveServer, make_settings, task_body, wait_until


def bodies(count: int, run: int) -> list[bytes]:
    return [json.dumps(task_body(f"r{run}-{n:06d}")).encode() for n in range(count)]


def publish(nsqd: Nsqd, topic: str, messages: list[bytes]) -> None:
    for start in range(0, len(messages), 2000):
        nsqd.mpub(topic, messages[start : start + 2000])


def bare_reader_seconds(nsqd: Nsqd, topic: str, count: int) -> float:
    """Seconds for a bare pynsq Reader (max_in_flight 200) to FIN `count` messages."""
    import nsq

    seen = 0
    elapsed = 0.0

    async def main() -> None:
        nonlocal elapsed
        done = asyncio.Event()
        started = time.perf_counter()

        def handle(message: object) -> bool:
            nonlocal seen
            seen += 1
            if seen == count:
                done.set()
            return True

        reader = nsq.Reader(
            topic=topic,
            channel="bare",
            message_handler=handle,
            nsqd_tcp_addresses=[nsqd.tcp_address],
            max_in_flight=200,
        )
        await done.wait()
        elapsed = time.perf_counter() - started
        reader.close()

    asyncio.run(main())
    return elapsed


def stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM tasks").fetchone()[0])


def taskdash_seconds(nsqd: Nsqd, tmp: Path, count: int) -> float:
    """Seconds from TaskDash's start until `count` published tasks are durably stored."""
    db = tmp / "taskdash.db"
    settings = make_settings(
        tmp, nsqd_tcp_addresses=[nsqd.tcp_address], events_topic="", nsq_max_in_flight=200
    )
    started = time.time()
    server = LiveServer(settings).start()
    try:
        # Poll gently (the poller shares the machine); the last write's own time ends the run.
        wait_until(lambda: stored(db) >= count, timeout_s=600, step_s=0.2)
        with sqlite3.connect(db) as conn:
            last_write = float(conn.execute("SELECT max(updated_at) FROM tasks").fetchone()[0])
        return last_write - started
    finally:
        server.stop()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        nsqd = Nsqd(tmp / "nsqd", node_id=1).start()
        try:
            for run in range(runs):
                nsqd.create_channel("bare", "bare")
                publish(nsqd, "bare", bodies(count, run))
                bare.append(bare_reader_seconds(nsqd, "bare", count))
                for topic in TOPICS:
                    nsqd.create_channel(topic, "taskdash")
                publish(nsqd, "taskRegister", bodies(count, run))
                run_dir = tmp / f"run{run}"
                run_dir.mkdir()
                ours.append(taskdash_seconds(nsqd, run_dir, count))
                print(
                    f"run {run + 1}: bare {count / bare[-1]:,.0f} msg/s, "
                    f"taskdash {count / ours[-1]:,.0f} msg/s",
                    flush=True,
                )
        finally:
            nsqd.stop()
    bare_rate, our_rate = count / median(bare), count / median(ours)
    report("ingest_bare_reader", bare_rate, "msg/s", 1.0, "bare pynsq Reader")
    report(f"ingest_sqlite_{count}", our_rate, "msg/s", our_rate / bare_rate, "bare pynsq Reader")


if __name__ == "__main__":
    main()
