"""Merging a batch of task messages into MongoDB without transactions.

One `find` reads the batch's tasks; the domain rules merge each task's messages; one unordered
`bulk_write` inserts new tasks and replaces changed ones on condition that their `rev` is still
the one read, each carrying its history lines (history.py), which are then copied into
`task_events`; the task counts move with what was written (task_counts.py). A task another
writer changed meanwhile (a duplicate `_id` on insert, or a `rev` that moved) is re-read and
merged again, a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError

from taskdash.domain import rules as domain_rules
from taskdash.domain.activity import activity_changes
from taskdash.domain.errors import StoreWriteError
from taskdash.domain.models import Task, TaskEvent
from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.store.mongo.activity import MongoActivity
from taskdash.store.mongo.client import Collection, Document, duplicate_key_indexes
from taskdash.store.mongo.history import (
    PENDING,
    PENDING_SINCE,
    TaskHistory,
    pending_lines,
    with_pending,
)
from taskdash.store.mongo.task_counts import MongoTaskCounts
from taskdash.store.mongo.task_documents import document_to_task, task_to_document

MAX_MERGE_ATTEMPTS = 5


@dataclass(slots=True)
class _Merged:
    base: Task | None
    after: Task
    events: list[TaskEvent] = field(default_factory=list)
    lines: list[Document] = field(default_factory=list)  # the events as the write carries them


def _merge(
    base: Task | None, envelopes: Sequence[TaskMessageEnvelope], *, now: float
) -> _Merged | None:
    """One task after its messages, with the history lines; None when nothing changes."""
    task = base
    events: list[TaskEvent] = []
    for env in envelopes:
        merged = domain_rules.merge_task_message(
            task, env.message, kind=env.kind, ts_ns=env.ts_ns, now=now
        )
        if merged is None:
            continue
        event = domain_rules.message_event(task, merged, kind=env.kind, now=now)
        if event is not None:
            events.append(event)
        task = merged
    if task is None or task is base:
        return None
    return _Merged(base, task, events)


async def _read(tasks: Collection, history: TaskHistory, ids: Iterable[str]) -> dict[str, Task]:
    """The tasks, once the history lines they still carry are in `task_events`."""
    docs = await tasks.find({"_id": {"$in": list(ids)}}).to_list()
    await history.complete(docs)
    return {doc["_id"]: document_to_task(doc) for doc in docs}


def _without_lines(doc: Document | None) -> Document | None:
    if doc is None:
        return None
    return {key: value for key, value in doc.items() if key not in (PENDING, PENDING_SINCE)}


async def _write(tasks: Collection, merged: dict[str, _Merged], *, now: float) -> set[str]:
    """Write every merged task on condition; returns the ids another writer got to first."""
    ids = list(merged)
    for outcome in merged.values():
        outcome.lines = pending_lines(outcome.events, rev=outcome.after.rev, now=now)
    docs = {
        task_id: with_pending(
            task_to_document(merged[task_id].after), merged[task_id].lines, now=now
        )
        for task_id in ids
    }
    ops: list[InsertOne[Document] | ReplaceOne[Document]] = []
    for task_id in ids:
        base = merged[task_id].base
        if base is None:
            ops.append(InsertOne(docs[task_id]))
        else:
            ops.append(ReplaceOne({"_id": task_id, "rev": base.rev}, docs[task_id]))
    taken: set[str] = set()
    try:
        result = await tasks.bulk_write(ops, ordered=False)
        written = result.matched_count + result.inserted_count
    except BulkWriteError as exc:
        taken = {ids[index] for index in duplicate_key_indexes(exc)}
        written = int(exc.details.get("nMatched", 0)) + int(exc.details.get("nInserted", 0))
    if written + len(taken) == len(ops):
        return taken
    # Some replace found its rev moved; which ones: those not stored as this batch wrote them
    # (their lines may already be copied and taken off by a reader completing them).
    replaced = [task_id for task_id in ids if merged[task_id].base is not None]
    stored = await tasks.find({"_id": {"$in": replaced}}).to_list()
    stored_by_id = {doc["_id"]: _without_lines(doc) for doc in stored}
    return taken | {
        task_id
        for task_id in replaced
        if stored_by_id.get(task_id) != _without_lines(docs[task_id])
    }


async def apply_envelopes(
    tasks: Collection,
    history: TaskHistory,
    counts: MongoTaskCounts,
    envelopes: Sequence[TaskMessageEnvelope],
    *,
    activity: MongoActivity,
    now: float,
) -> int:
    """Merge and write the batch with its history; returns how many tasks changed."""
    by_id: dict[str, list[TaskMessageEnvelope]] = {}
    for env in envelopes:
        by_id.setdefault(env.message.id, []).append(env)
    pending: set[str] = set(by_id)
    current = await _read(tasks, history, pending)
    written: list[_Merged] = []
    for _ in range(MAX_MERGE_ATTEMPTS):
        merged = {}
        for task_id in sorted(pending):
            outcome = _merge(current.get(task_id), by_id[task_id], now=now)
            if outcome is not None:
                merged[task_id] = outcome
        conflicts = await _write(tasks, merged, now=now) if merged else set()
        done = [outcome for task_id, outcome in merged.items() if task_id not in conflicts]
        await counts.move((outcome.base, outcome.after) for outcome in done)
        written += done
        if not conflicts:
            break
        pending = conflicts
        current = await _read(tasks, history, pending)
    else:
        raise StoreWriteError(f"mongodb: tasks kept changing during a merge: {sorted(pending)[:5]}")
    # Should this fail, the lines stay on their tasks: a redelivery's read completes them.
    await history.insert([line for w in written for line in w.lines])
    await activity.record([activity_changes(w.base, w.after, w.events) for w in written])
    return len(written)
