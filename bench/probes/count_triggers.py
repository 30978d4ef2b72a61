"""Probe: what the SQLite task-count triggers cost the store's ingest path, side by side.

Loads N new tasks (taskRegister) and then moves all of them to another status (updateStatus)
through `store.tasks.apply_messages` in batches of BATCH, on a fresh store with the triggers and
on one with them dropped, ROUNDS times, each round in the other order than the last.
Rates are per CPU second of this process (the writer thread included), which a busy machine
disturbs far less than wall time. Prints the medians and the ratio (with / without).
Run: .venv/bin/python bench/probes/count_triggers.py [N] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import task_envelopes

from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.store import open_store

BATCH = 500
TRIGGERS = ("task_counts_insert", "task_counts_update", "task_counts_delete")


def batches(count: int, *, status: str | None) -> list[list[TaskMessageEnvelope]]:
    """taskRegister batches of tasks 0..count-1, or (status) updateStatus ones moving them."""
    out = []
    ts_ns = time.time_ns() + 10**9
    for first in range(0, count, BATCH):
        batch = task_envelopes(first, min(count, first + BATCH))
        if status is not None:
            batch = [
                TaskMessageEnvelope(
                    kind="update", message=replace(env.message, status=status), ts_ns=ts_ns
                )
                for env in batch
            ]
        out.append(batch)
    return out


async def one_run(path: Path, count: int, *, triggers: bool) -> tuple[float, float]:
    """(inserts, status updates) per CPU second on a fresh store, with or without triggers."""
    store = await open_store(f"sqlite:///{path}")
    try:
        if not triggers:
            for name in TRIGGERS:
                drop = f"DROP TRIGGER {name}"
                await store._db.write(lambda conn, drop=drop: conn.execute(drop))  # type: ignore[attr-defined]
        rates = []
        for status in (None, "编辑中"):
            work = batches(count, status=status)
            started = time.process_time()
            for batch in work:
                await store.tasks.apply_messages(envelopes=batch, now=time.time())
            rates.append(count / (time.process_time() - started))
        return rates[0], rates[1]
    finally:
        await store.aclose()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for triggers in (True, False) if n % 2 == 0 else (False, True):
                path = Path(tmp, f"r{n}-{triggers}.db")
                results[triggers].append(asyncio.run(one_run(path, count, triggers=triggers)))
                print(f"# round {n} triggers={triggers}: {results[triggers][-1]}", flush=True)
    for index, what in enumerate(("insert", "status update")):
        with_ = statistics.median(r[index] for r in results[True])
        without = statistics.median(r[index] for r in results[False])
        print(
            f"{what}: {with_:,.0f} tasks per CPU s with the count triggers, {without:,.0f} without"
            f" (ratio {with_ / without:.2f})"
        )


if __name__ == "__main__":
    main()
