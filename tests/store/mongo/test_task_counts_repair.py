"""MongoDB task counts: a count left off (a crash between a task write and its `$inc`) is
corrected by the repair, and only once it is seen twice."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from pymongo.database import Database

from taskdash.domain.events import TaskMessage
from taskdash.domain.ports import CountScope, Store, TaskMessageEnvelope
from taskdash.store.mongo.task_counts import COUNTED, MongoTaskCounts

EVERYTHING = CountScope()


def envelope(number: int) -> TaskMessageEnvelope:
    message = TaskMessage(
        id=f"task-{number}",
        project_id="p1",
        instance_id="i1",
        task_id=str(number),
        status="",
        task_type="satEdit",
        url="",
        edit_info="",
        create_time=1_600_000_000 + number,
    )
    return TaskMessageEnvelope(kind="register", message=message, ts_ns=time.time_ns())


async def kept(store: Store) -> Counter[str]:
    rows = await store.task_counts.counts(scope=EVERYTHING, project=None, task_type=None)
    return Counter({row.status: row.n for row in rows})


async def test_a_count_left_off_is_repaired(store: Store, raw: Database[dict[str, Any]]) -> None:
    await store.tasks.apply_messages(envelopes=[envelope(n) for n in range(3)], now=time.time())
    assert await kept(store) == Counter({"待领取": 3})
    # As if the process died after writing a task but before its $inc.
    await asyncio.to_thread(raw.task_counts.update_many, {}, {"$inc": {"n": -2}})
    key = ["p1", "satEdit", "x", "", "", ""]
    stray = {"_id": json.dumps(key), **dict(zip(COUNTED, key, strict=True)), "n": 1}
    await asyncio.to_thread(raw.task_counts.insert_one, stray)
    counts = store.task_counts
    assert isinstance(counts, MongoTaskCounts)
    assert await counts.repair(confirm_after_s=0) == 2
    assert await kept(store) == Counter({"待领取": 3})
    assert await counts.repair(confirm_after_s=0) == 0
