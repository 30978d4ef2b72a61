"""Rolling up the tasks and history a MongoDB database held before it had activity rollups.

Done once, at the first start of a TaskDash with rollups (a mark in `counters`, inserted first
so that of several instances starting at once only one rolls up), as the SQLite migration
does: each history line is counted under its task's current project and type (a service's
change under its current holder), the queue's past is reconstructed from the lines, and a
correction at hour 0 makes the queue's length now exactly the unclaimed tasks stored.
"""

from __future__ import annotations

import logging
import time

from pymongo.errors import DuplicateKeyError

from taskdash.domain.activity import (
    MESSAGE_ACTIONS,
    ActivityChanges,
    count_line,
    hour_of,
    queued,
)
from taskdash.domain.models import UNCLAIMED, Task, TaskEvent
from taskdash.store.mongo.activity import MongoActivity
from taskdash.store.mongo.client import Database
from taskdash.store.mongo.history import document_to_event
from taskdash.store.mongo.task_documents import document_to_task

logger = logging.getLogger(__name__)

MARK = "activity_rollups"
BATCH = 1000


async def ensure_rollups(db: Database, activity: MongoActivity) -> None:
    """Roll up what the database holds, unless it was done (or the database had no tasks)."""
    try:
        await db.counters.insert_one({"_id": MARK, "state": "building", "at": time.time()})
    except DuplicateKeyError:
        return
    if await db.tasks.find_one({}, {"_id": 1}) is not None:
        began = time.monotonic()
        tasks = await rebuild(db, activity)
        logger.info(
            "activity rollups: %d tasks and their history rolled up in %.1f s",
            tasks,
            time.monotonic() - began,
        )
    await db.counters.update_one({"_id": MARK}, {"$set": {"state": "built"}})


def _count_queue_change(changes: ActivityChanges, line: TaskEvent, task: Task) -> None:
    """The queue's change a history line made, judged from its statuses and holders."""
    by_service = line.action in MESSAGE_ACTIONS
    holder_before = task.user if by_service else line.from_user
    holder_after = task.user if by_service else line.to_user
    was = line.action != "create" and line.from_status == UNCLAIMED and not holder_before
    now = line.to_status == UNCLAIMED and not holder_after
    if was != now:
        key = (hour_of(line.at), task.project_id, task.type, task.group, "")
        changes.add_hourly(key, "queue_delta", 1 if now else -1)


async def rebuild(db: Database, activity: MongoActivity) -> int:
    """Add every stored task and history line to the (empty) rollups; returns the tasks read."""
    totals = ActivityChanges()
    replayed: dict[tuple[str, str, str], int] = {}
    count = 0
    cursor = db.tasks.find({}, {"pending_history": 0}).sort("_id", 1).batch_size(BATCH)
    batch: list[Task] = []

    async def roll_up(tasks: list[Task]) -> None:
        by_id = {task.id: task for task in tasks}
        lines = db.task_events.find({"task_id": {"$in": list(by_id)}}).sort("_id", 1)
        counted = ActivityChanges()
        async for doc in lines:
            line, task = document_to_event(doc), by_id[doc["task_id"]]
            count_line(counted, line, task)
            if line.action == "create":
                created = (hour_of(line.at), task.project_id, task.type, task.group, "")
                totals.add_hourly(created, "created", 1)
            _count_queue_change(totals, line, task)
        for hourly_key, counts in counted.hourly.items():
            for name, n in counts.items():
                totals.add_hourly(hourly_key, name, n)
        for transition, n in counted.transitions.items():
            totals.transitions[transition] = totals.transitions.get(transition, 0) + n
        for status_key, n in counted.statuses.items():
            totals.statuses[status_key] = totals.statuses.get(status_key, 0) + n
        await activity.record([ActivityChanges(cycles=counted.cycles)])
        for task in tasks:
            if queued(task):
                queue_key = (task.project_id, task.type, task.group)
                totals.queue[queue_key] = totals.queue.get(queue_key, 0) + 1
            if task.user:
                holding_key = (task.user, task.project_id, task.type, task.status)
                totals.holding[holding_key] = totals.holding.get(holding_key, 0) + 1

    async for doc in cursor:
        batch.append(document_to_task(doc))
        count += 1
        if len(batch) == BATCH:
            await roll_up(batch)
            batch = []
    if batch:
        await roll_up(batch)
    for (_, project, task_type, group, user), counts in totals.hourly.items():
        if not user and counts.get("queue_delta"):
            queue_key = (project, task_type, group)
            replayed[queue_key] = replayed.get(queue_key, 0) + counts["queue_delta"]
    for queue_key in set(replayed) | set(totals.queue):
        correction = totals.queue.get(queue_key, 0) - replayed.get(queue_key, 0)
        if correction:
            totals.add_hourly((0, *queue_key, ""), "queue_delta", correction)
    await activity.record([totals.without_zeros()])
    return count
