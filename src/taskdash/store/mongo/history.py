"""Task history in MongoDB without transactions: each line travels on its task's document.

A change writes the task and its history lines in one conditional write (the lines stay in the
task's `pending_history` until its next write), then copies them into `task_events`. A line's
identity (`key`: the task, the `rev` its write made, its place in that write, and the write's
time, in case a copied-over task ever brings back an old `rev`) is fixed when the change is
decided, and a unique index on it makes a second copy a no-op. Before a task is written again,
or its history read, the lines it carries are looked up by key and any missing one is copied;
a sweep does the same for every write older than STALE_PENDING_S, once, in the order of
`pending_since` (a mark in `counters`). So a failure after the task write loses no line, and
none is doubled; taking the lines off the task would cost a second write of every task.

A line's `seq` (its `_id`, the order readers follow) comes from one `$inc` of the `counters`
sequence when it is copied. Writers commit seqs out of order, so a reader of "everything after
seq N" stops at a gap until the gap is older than GAP_GRACE_S (a writer that stopped between
allocating and inserting), or until every seq in it is known unused: one allocated for a line
that turned out to be stored already (by a second writer completing it) is recorded in
`task_event_voids` by the writer that allocated it, the only one who could have used it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from taskdash.domain.errors import StoreWriteError
from taskdash.domain.models import TASK_EVENT_FIELDS, TaskEvent
from taskdash.store.mongo.client import Database, Document, duplicate_key_indexes

logger = logging.getLogger(__name__)

SEQUENCE = "task_events"
MAX_INSERT_ATTEMPTS = 3
GAP_GRACE_S = 5.0
# A writer copies its lines at once; the sweep checks writes older than this (a writer that
# failed or stopped after its task write), far beyond any write's time in flight.
STALE_PENDING_S = 30.0
PENDING_SWEEP_INTERVAL_S = 15.0
PENDING_SWEEP_BATCH = 500
SWEPT = "task_events_swept"
VOIDS_KEPT_S = 3600.0
PENDING = "pending_history"
PENDING_SINCE = "pending_since"


def event_to_document(event: TaskEvent, *, written_at: float) -> Document:
    return {"_id": event.seq, **event_fields(event), "written_at": written_at}


def document_to_event(doc: Document) -> TaskEvent:
    fields = {name: doc[name] for name in TASK_EVENT_FIELDS if name in doc}
    return TaskEvent(**fields, seq=int(doc["_id"]))


def pending_lines(events: Sequence[TaskEvent], *, rev: int, now: float) -> list[Document]:
    """The lines a write making `rev` of a task at `now` carries, each with its identity."""
    return [
        {"key": f"{rev}.{index}@{now!r}:{event.task_id}", **event_fields(event)}
        for index, event in enumerate(events)
    ]


def event_fields(event: TaskEvent) -> Document:
    return {name: getattr(event, name) for name in TASK_EVENT_FIELDS}


def with_pending(fields: Document, lines: Sequence[Document], *, now: float) -> Document:
    """`fields` of a task write, carrying `lines` (and none left from before)."""
    if lines:
        return {**fields, PENDING: list(lines), PENDING_SINCE: now}
    return fields


def carried_lines(doc: Document) -> list[Document]:
    """The history lines a task document still carries."""
    return list(doc.get(PENDING) or [])


class TaskHistory:
    """Writes and reads `task_events`; completes lines left on tasks."""

    def __init__(self, db: Database) -> None:
        self._events = db.task_events
        self._voids = db.task_event_voids
        self._counters = db.counters
        self._tasks = db.tasks
        self._next_sweep_at = 0.0

    async def prepare(self) -> None:
        """At start-up: the sequence exists past every stored seq; left lines are completed."""
        # Created here, not upserted by writers: two upserts racing to create it collide.
        for start in ({"_id": SEQUENCE, "value": 0}, {"_id": SWEPT, "since": 0.0, "task": ""}):
            with contextlib.suppress(DuplicateKeyError):
                await self._counters.insert_one(start)
        await self._move_counter_past_stored()
        await self.complete_left_lines(now=time.time())

    async def _move_counter_past_stored(self) -> None:
        highest = await self._events.find_one({}, sort=[("_id", -1)], projection={"_id": 1})
        if highest is not None:
            await self._counters.update_one(
                {"_id": SEQUENCE}, {"$max": {"value": int(highest["_id"])}}
            )

    async def _allocate(self, count: int) -> range:
        """`count` fresh seqs, from one `$inc` of the sequence counter."""
        counter = await self._counters.find_one_and_update(
            {"_id": SEQUENCE}, {"$inc": {"value": count}}, return_document=ReturnDocument.AFTER
        )
        if counter is None:  # a database whose counter was removed after start-up
            await self.prepare()
            return await self._allocate(count)
        last = int(counter["value"])
        return range(last - count + 1, last + 1)

    async def insert(self, lines: Sequence[Document]) -> None:
        """Copy `lines` into `task_events`, each once, with fresh seqs in the order given."""
        pending = list(lines)
        for _ in range(MAX_INSERT_ATTEMPTS):
            if not pending:
                return
            seqs = await self._allocate(len(pending))
            written_at = time.time()
            docs = [
                {"_id": seq, **line, "written_at": written_at}
                for seq, line in zip(seqs, pending, strict=True)
            ]
            try:
                await self._events.insert_many(docs, ordered=False)
                return
            except BulkWriteError as exc:
                refused = [docs[index] for index in duplicate_key_indexes(exc)]
            # A duplicate key does not say which index refused it on every server: a line
            # whose key is stored was copied before (fine: its seq stays unused); any other
            # lost its seq to a stored line, which only a counter behind the stored seqs causes.
            stored = await self._stored_keys([doc["key"] for doc in refused])
            await self._record_voids([doc["_id"] for doc in refused if doc["key"] in stored])
            pending = [
                {k: v for k, v in doc.items() if k not in ("_id", "written_at")}
                for doc in refused
                if doc["key"] not in stored
            ]
            if pending:
                await self._move_counter_past_stored()
        raise StoreWriteError("mongodb: task event seqs keep colliding with stored ones")

    async def _stored_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these line keys `task_events` holds."""
        # The filter repeats the partial index's own condition ($type string), without which
        # a server may not prove the index covers the query: FerretDB 2 scanned every line.
        found = {"key": {"$in": list(keys), "$type": "string"}}
        return {doc["key"] async for doc in self._events.find(found, {"key": 1, "_id": 0})}

    async def _record_voids(self, seqs: Sequence[int]) -> None:
        """Let readers pass these seqs at once: their lines were stored under other seqs."""
        if seqs:
            logger.debug("history: %d lines were stored already; seqs %s unused", len(seqs), seqs)
            now = time.time()
            await self._voids.insert_many([{"_id": seq, "at": now} for seq in seqs], ordered=False)

    async def _all_void(self, first: int, end: int) -> bool:
        """Whether every seq in [first, end) is known unused."""
        return await self._voids.count_documents({"_id": {"$gte": first, "$lt": end}}) == (
            end - first
        )

    async def complete(self, docs: Sequence[Document]) -> None:
        """Copy the lines that task documents (as read) carry and `task_events` lacks."""
        lines = [line for doc in docs for line in carried_lines(doc)]
        if lines:
            stored = await self._stored_keys([line["key"] for line in lines])
            await self.insert([line for line in lines if line["key"] not in stored])

    async def complete_left_lines(self, *, now: float) -> int:
        """Complete the lines of every write older than STALE_PENDING_S not yet swept."""
        self._next_sweep_at = now + PENDING_SWEEP_INTERVAL_S
        await self._voids.delete_many({"at": {"$lt": now - VOIDS_KEPT_S}})
        until = now - STALE_PENDING_S
        swept = 0
        while True:
            mark = await self._counters.find_one({"_id": SWEPT}) or {}
            since, task = float(mark.get("since", 0.0)), str(mark.get("task", ""))
            # A range and a $nor (not an $or beside the range: FerretDB 2 answers that with
            # nothing), as the task list's keyset pages do.
            found = {
                PENDING_SINCE: {"$gte": since, "$lte": until},
                "$nor": [{PENDING_SINCE: since, "_id": {"$lte": task}}],
            }
            cursor = (
                self._tasks.find(found, {PENDING: 1, PENDING_SINCE: 1})
                .sort([(PENDING_SINCE, 1), ("_id", 1)])
                .limit(PENDING_SWEEP_BATCH)
            )
            docs = await cursor.to_list()
            await self.complete(docs)
            swept += len(docs)
            if not docs:
                return swept
            last = docs[-1]
            # Compare-and-set: an instance sweeping the same writes at once moves it only once.
            moved = await self._counters.update_one(
                {"_id": SWEPT, "since": since, "task": task},
                {"$set": {"since": last[PENDING_SINCE], "task": last["_id"]}},
            )
            if len(docs) < PENDING_SWEEP_BATCH or not moved.modified_count:
                return swept

    async def for_task(self, task_id: str, *, limit: int) -> list[TaskEvent]:
        task = await self._tasks.find_one({"_id": task_id}, {PENDING: 1})
        if task is not None:
            await self.complete([task])
        cursor = self._events.find({"task_id": task_id}).sort("_id", -1).limit(limit)
        return [document_to_event(doc) for doc in await cursor.to_list()]

    async def after(self, seq: int, *, limit: int) -> list[TaskEvent]:
        """Events after `seq` in seq order, up to the first gap that may still be filled."""
        if time.time() >= self._next_sweep_at:
            await self.complete_left_lines(now=time.time())
        cursor = self._events.find({"_id": {"$gt": seq}}).sort("_id", 1).limit(limit)
        docs = await cursor.to_list()
        settled_before = time.time() - GAP_GRACE_S
        events: list[TaskEvent] = []
        expected = seq + 1
        for doc in docs:
            if (
                doc["_id"] != expected
                and doc.get("written_at", 0.0) > settled_before
                and not await self._all_void(expected, doc["_id"])
            ):
                break  # a lower seq may still be in flight; read it next time
            events.append(document_to_event(doc))
            expected = int(doc["_id"]) + 1
        return events

    async def last_seq(self) -> int:
        doc = await self._events.find_one({}, sort=[("_id", -1)])
        return int(doc["_id"]) if doc else 0
