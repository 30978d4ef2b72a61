"""Task history in MongoDB without transactions: each line travels on its task's document.

A change writes the task and its history lines in one conditional write (the lines wait in the
task's `pending_history`), then copies them into `task_events` and takes them off the task.
A line's identity (`key`: the task, the `rev` its write made, its place in that write, and the
write's time, in case a copied-over task ever brings back an old `rev`) is fixed when the change
is decided, and a unique index on it makes a second copy a no-op. A failure after the task
write leaves the lines on the task, where the next write of that task, a read of its history or
the readers' sweep completes them: no line is lost and none is doubled.

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

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from taskdash.domain.errors import StoreWriteError
from taskdash.domain.models import TaskEvent
from taskdash.store.mongo.client import Database, Document

logger = logging.getLogger(__name__)

SEQUENCE = "task_events"
DUPLICATE_KEY = 11000
MAX_INSERT_ATTEMPTS = 3
GAP_GRACE_S = 5.0
# Lines older than this still on a task were left by a writer that failed or stopped.
STALE_PENDING_S = 5.0
PENDING_SWEEP_INTERVAL_S = 5.0
PENDING_SWEEP_BATCH = 500
VOIDS_KEPT_S = 3600.0
PENDING = "pending_history"
PENDING_SINCE = "pending_since"
EVENT_FIELDS = (
    "task_id",
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "from_user",
    "to_user",
    "detail",
)


def event_to_document(event: TaskEvent, *, written_at: float) -> Document:
    return {
        "_id": event.seq,
        "task_id": event.task_id,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "from_user": event.from_user,
        "to_user": event.to_user,
        "detail": event.detail,
        "written_at": written_at,
    }


def document_to_event(doc: Document) -> TaskEvent:
    return TaskEvent(
        task_id=doc["task_id"],
        at=doc["at"],
        actor=doc["actor"],
        action=doc["action"],
        from_status=doc.get("from_status", ""),
        to_status=doc.get("to_status", ""),
        from_user=doc.get("from_user", ""),
        to_user=doc.get("to_user", ""),
        detail=doc.get("detail", ""),
        seq=int(doc["_id"]),
    )


def pending_lines(events: Sequence[TaskEvent], *, rev: int, now: float) -> list[Document]:
    """The lines a write making `rev` of a task at `now` carries, each with its identity."""
    return [
        {"key": f"{rev}.{index}@{now!r}:{event.task_id}", **event_fields(event)}
        for index, event in enumerate(events)
    ]


def event_fields(event: TaskEvent) -> Document:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


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
        with contextlib.suppress(DuplicateKeyError):
            await self._counters.insert_one({"_id": SEQUENCE, "value": 0})
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
                details = exc.details
                errors = details.get("writeErrors", [])
                if details.get("writeConcernErrors") or any(
                    error.get("code") != DUPLICATE_KEY for error in errors
                ):
                    raise
                refused = [docs[error["index"]] for error in errors]
            # A duplicate key does not say which index refused it on every server: a line
            # whose key is stored was copied before (fine: its seq stays unused); any other
            # lost its seq to a stored line, which only a counter behind the stored seqs causes.
            keys = [doc["key"] for doc in refused]
            stored = {
                doc["key"]
                async for doc in self._events.find({"key": {"$in": keys}}, {"key": 1, "_id": 0})
            }
            await self._record_voids([doc["_id"] for doc in refused if doc["key"] in stored])
            pending = [
                {k: v for k, v in doc.items() if k not in ("_id", "written_at")}
                for doc in refused
                if doc["key"] not in stored
            ]
            if pending:
                await self._move_counter_past_stored()
        raise StoreWriteError("mongodb: task event seqs keep colliding with stored ones")

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

    async def settle(self, written: Sequence[tuple[str, int]]) -> None:
        """Take the copied lines off tasks still at the given `rev` (a later write flushed them)."""
        if written:
            await self._tasks.bulk_write(
                [
                    UpdateOne(
                        {"_id": task_id, "rev": rev}, {"$unset": {PENDING: "", PENDING_SINCE: ""}}
                    )
                    for task_id, rev in written
                ],
                ordered=False,
            )

    async def complete(self, docs: Sequence[Document]) -> None:
        """Copy and settle the lines that task documents (as read) still carry."""
        carrying = [doc for doc in docs if doc.get(PENDING)]
        if carrying:
            await self.insert([line for doc in carrying for line in carried_lines(doc)])
            await self.settle([(doc["_id"], int(doc.get("rev", 0))) for doc in carrying])

    async def complete_left_lines(self, *, now: float) -> int:
        """Complete lines that writers left on tasks longer than STALE_PENDING_S ago."""
        self._next_sweep_at = now + PENDING_SWEEP_INTERVAL_S
        await self._voids.delete_many({"at": {"$lt": now - VOIDS_KEPT_S}})
        cursor = self._tasks.find(
            {PENDING_SINCE: {"$lt": now - STALE_PENDING_S}},
            {PENDING: 1, "rev": 1},
        ).limit(PENDING_SWEEP_BATCH)
        docs = await cursor.to_list()
        await self.complete(docs)
        return len(docs)

    async def for_task(self, task_id: str, *, limit: int) -> list[TaskEvent]:
        task = await self._tasks.find_one({"_id": task_id}, {PENDING: 1, "rev": 1})
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
