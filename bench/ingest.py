"""Ingest: N taskRegister messages via nsqd → durable in the store, against a bare pynsq Reader.

Both read the same nsqd, the same number of messages of the same size, with the same
max_in_flight; the bare Reader FINs each message without doing anything (the ceiling). The
messages are published once the readers are up. Besides the rates, the CPU time each takes per
message (the bare Reader's process from its first message to its last; `taskdash serve` from
the publishing to its last write) is reported: wall-clock rates on a shared machine move 20-40 %
from one minute to the next, CPU time much less. With
`mongo` as third argument the store is MongoDB (a FerretDB started for the run), not SQLite.
PROCESSES is one count or several (`1,2`): for each, that many `taskdash serve` processes share
the channel and the store, as instances do, on a fresh store with the same messages; with
several counts the last is also reported against the first.
Run: .venv/bin/python bench/ingest.py [N] [RUNS] [sqlite|mongo] [PROCESSES]
"""

from __future__ import annotations

import asyncio
import json
import os
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_reader_seconds(nsqd: Nsqd, topic: str, messages: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds from a bare pynsq Reader's first message to its last (all FINed on
    return); the messages are published once it is connected."""
    import logging

    import nsq

    logging.getLogger("nsq").setLevel(logging.ERROR)  # not its "connection closed" at the end
    count = len(messages)
    seen = 0
    elapsed = cpu = 0.0

    async def main() -> None:
        nonlocal elapsed, cpu
        done = asyncio.Event()
        started = started_cpu = 0.0

        def handle(message: object) -> bool:
            nonlocal seen, started, started_cpu
            seen += 1
            if seen == 1:
                started, started_cpu = time.perf_counter(), time.process_time()
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
        await asyncio.to_thread(publish, nsqd, topic, messages)
        await done.wait()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        reader.close()

    asyncio.run(main())
    return elapsed, cpu


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


def taskdash_seconds(
    nsqd: Nsqd, tmp: Path, messages: list[bytes], store_url: str, processes: int
) -> tuple[float, float]:
    """Seconds from the first stored task to the last, with `processes` `taskdash serve`
    processes on the channel and the store (start-up is not counted, as the bare Reader's
    connecting is not), and the CPU seconds they took from the publishing to the end."""
    env = {"TASKDASH_NSQD_TCP_ADDRESSES": nsqd.tcp_address, "TASKDASH_EVENTS_TOPIC": ""}
    with ExitStack() as servers:
        pids = [
            servers.enter_context(taskdash(tmp, store_url, env)).proc.pid for _ in range(processes)
        ]
        cpu_before = sum(map(cpu_seconds, pids))
        publish(nsqd, "taskRegister", messages)
        # Poll gently (the poller shares the machine); the writes' own times give the figure.
        step = 0.2 if store_url.startswith("sqlite:") else 1.0
        wait_until(lambda: stored_count(store_url) >= len(messages), timeout_s=900, step_s=step)
        cpu = sum(map(cpu_seconds, pids)) - cpu_before
        first, last = write_span(store_url)
        return last - first, cpu


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    backend = sys.argv[3] if len(sys.argv) > 3 else "sqlite"
    counts = [int(n) for n in (sys.argv[4] if len(sys.argv) > 4 else "1").split(",")]
    bare: list[float] = []
    bare_cpu: list[float] = []
    ours: dict[int, list[float]] = {processes: [] for processes in counts}
    ours_cpu: dict[int, list[float]] = {processes: [] for processes in counts}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        nsqd = Nsqd(tmp / "nsqd", node_id=1).start()
        ferretdb = FerretDb(tmp / "ferretdb", durable=True).start() if backend == "mongo" else None
        try:
            for run in range(runs):
                nsqd.create_channel("bare", "bare")
                seconds, cpu = bare_reader_seconds(nsqd, "bare", bodies(count, run))
                bare.append(seconds)
                bare_cpu.append(cpu)
                rates = [f"bare {count / seconds:,.0f} msg/s, {cpu / count * 1e6:.0f} µs CPU/msg"]
                for topic in TOPICS:
                    nsqd.create_channel(topic, "taskdash")
                for processes in counts:
                    run_dir = tmp / f"run{run}-{processes}"
                    run_dir.mkdir()
                    store_url = (
                        ferretdb.url(f"bench{run}p{processes}")
                        if ferretdb
                        else f"sqlite:///{run_dir / 'taskdash.db'}"
                    )
                    seconds, cpu = taskdash_seconds(
                        nsqd, run_dir, bodies(count, run), store_url, processes
                    )
                    ours[processes].append(seconds)
                    ours_cpu[processes].append(cpu)
                    rates.append(
                        f"taskdash × {processes} {count / seconds:,.0f} msg/s,"
                        f" {cpu / count * 1e6:.0f} µs CPU/msg"
                    )
                print(f"# run {run + 1}: {', '.join(rates)}", flush=True)
        finally:
            nsqd.stop()
            if ferretdb:
                ferretdb.close()
    bare_rate = count / median(bare)
    report(f"ingest_{backend}_{count}_bare_reader", bare_rate, "msg/s", 1.0, "bare pynsq Reader")
    bare_us = median(bare_cpu) / count * 1e6
    report(f"ingest_{backend}_{count}_bare_reader_cpu", bare_us, "µs/msg", 1.0, "bare pynsq Reader")
    rate = {processes: count / median(ours[processes]) for processes in counts}
    for processes in counts:
        name = f"ingest_{backend}_{count}" + (f"_{processes}_processes" if processes > 1 else "")
        report(name, rate[processes], "msg/s", rate[processes] / bare_rate, "bare pynsq Reader")
        # As the rate's ratio: the Reader's CPU per message over ours (1.0: as cheap as it).
        us = median(ours_cpu[processes]) / count * 1e6
        report(f"{name}_cpu", us, "µs/msg", bare_us / us, "bare pynsq Reader's CPU/msg")
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
