"""Probe: what one busy Python thread does to SQLite writes from another thread.

Inserts the same task rows into a fresh TaskDash schema, 250 per transaction, with
`executemany` (one SQLite step per row, the GIL given up and taken back around each) and with
one `INSERT ... SELECT FROM json_each(?)` per batch (one step per batch), alone and beside a
thread that spins in Python (as the event loop does while taking NSQ messages in).
Run: .venv/bin/python bench/probes/gil_convoy.py [ROWS] [SWITCH_S]
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import task_envelopes

from taskdash.domain import rules
from taskdash.store import open_store
from taskdash.store.sqlite.tasks import _UPSERT, COLUMNS, task_to_row

JSON_UPSERT = (
    f"INSERT INTO tasks ({', '.join(COLUMNS)}) SELECT "
    + ", ".join(f"value ->> {i}" for i in range(len(COLUMNS)))
    + " FROM json_each(?) WHERE true ON CONFLICT(_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
)


def insert(rows: list[tuple[object, ...]], mode: str, busy_neighbour: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:

        async def create_schema() -> None:
            await (await open_store(f"sqlite:///{tmp}/x.db")).aclose()

        asyncio.run(create_schema())
        conn = sqlite3.connect(f"{tmp}/x.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set():
                pass

        neighbour = threading.Thread(target=spin)
        if busy_neighbour:
            neighbour.start()
        started = time.perf_counter()
        for first in range(0, len(rows), 250):
            conn.execute("BEGIN IMMEDIATE")
            if mode == "executemany":
                conn.executemany(_UPSERT, rows[first : first + 250])
            else:
                conn.execute(JSON_UPSERT, (json.dumps(rows[first : first + 250]),))
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        stop.set()
        if busy_neighbour:
            neighbour.join()
        conn.close()
        return seconds


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    if len(sys.argv) > 2:
        sys.setswitchinterval(float(sys.argv[2]))
    now = time.time()
    tasks = [
        rules.merge_task_message(None, e.message, kind="register", ts_ns=e.ts_ns, now=now)
        for e in task_envelopes(0, count)
    ]
    rows = [task_to_row(task) for task in tasks if task is not None]
    for busy in (False, True):
        for mode in ("executemany", "json_each"):
            seconds = insert(rows, mode, busy)
            print(
                f"{mode:11} {'beside a busy thread' if busy else 'alone':20}:"
                f" {seconds / count * 1e6:8.1f} µs per row",
                flush=True,
            )


if __name__ == "__main__":
    main()
