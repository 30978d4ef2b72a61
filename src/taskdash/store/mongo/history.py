"""Task history in MongoDB: `task_events` numbered by a `counters` sequence.

Each event's `_id` is its seq, allocated in blocks with one `$inc` on `counters`. A duplicate seq
(possible only where `$inc` is not atomic, as on FerretDB v1) is refused by the `_id` index and
that event gets a new one. Writers commit their seqs in any order, so a reader of "everything
after seq N" stops at a gap until the gap is older than GAP_GRACE_S (then it was never filled:
a writer died between allocating and inserting).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from taskdash.domain.errors import StoreWriteError
from taskdash.domain.models import TaskEvent
from taskdash.store.mongo.client import Database, Document

SEQUENCE = "task_events"
DUPLICATE_KEY = 11000
MAX_INSERT_ATTEMPTS = 20
RETRY_JITTER_S = 0.005
GAP_GRACE_S = 5.0


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


class TaskHistory:
    """Writes and reads `task_events`; one per store, so its lock spans the process."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # One allocation at a time per process: a server whose $inc is not atomic then only
        # collides between processes, and MongoDB serialises updates of one document anyway.
        self._allocating = asyncio.Lock()

    async def _allocate(self, count: int) -> range:
        """`count` fresh seqs, from one `$inc` of the sequence counter."""
        async with self._allocating:
            counter = await self._db.counters.find_one_and_update(
                {"_id": SEQUENCE},
                {"$inc": {"value": count}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        assert counter is not None  # an upsert returning the document after always has one
        last = int(counter["value"])
        return range(last - count + 1, last + 1)

    async def _repair_counter(self) -> None:
        """Move the counter past the highest seq in use (after a lost `$inc` on FerretDB)."""
        highest = await self._db.task_events.find_one({}, sort=[("_id", -1)])
        if highest is not None:
            async with self._allocating:
                await self._db.counters.update_one(
                    {"_id": SEQUENCE}, {"$max": {"value": int(highest["_id"])}}, upsert=True
                )

    async def record(self, events: Sequence[TaskEvent]) -> None:
        """Insert `events`, each with a fresh seq, in the order given."""
        pending = list(events)
        for attempt in range(MAX_INSERT_ATTEMPTS):
            if not pending:
                return
            seqs = await self._allocate(len(pending))
            for event, seq in zip(pending, seqs, strict=True):
                event.seq = seq
            written_at = time.time()
            docs = [event_to_document(e, written_at=written_at) for e in pending]
            try:
                await self._db.task_events.insert_many(docs, ordered=False)
                return
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                pending = await self._not_landed(pending, docs)
            await self._repair_counter()
            # Two processes that collided would otherwise allocate in lockstep again.
            await asyncio.sleep(random.uniform(0, RETRY_JITTER_S * (attempt + 1)))
        raise StoreWriteError("mongodb: no free task event seq (the counter keeps colliding)")

    async def _not_landed(self, events: list[TaskEvent], docs: list[Document]) -> list[TaskEvent]:
        """The events whose documents are not stored as written, after a partial insert.

        Read back rather than taken from the error's indexes: FerretDB v1, under two writers
        at once, gave both lost and doubled history when the indexes were trusted.
        """
        stored = {
            doc["_id"]: doc
            async for doc in self._db.task_events.find({"_id": {"$in": [d["_id"] for d in docs]}})
        }
        fields = ("task_id", "action", "at", "written_at")
        return [
            event
            for event, doc in zip(events, docs, strict=True)
            if any(stored.get(doc["_id"], {}).get(f) != doc[f] for f in fields)
        ]

    async def for_task(self, task_id: str, *, limit: int) -> list[TaskEvent]:
        cursor = self._db.task_events.find({"task_id": task_id}).sort("_id", -1).limit(limit)
        return [document_to_event(doc) for doc in await cursor.to_list()]

    async def after(self, seq: int, *, limit: int) -> list[TaskEvent]:
        """Events after `seq` in seq order, up to the first gap that may still be filled."""
        cursor = self._db.task_events.find({"_id": {"$gt": seq}}).sort("_id", 1).limit(limit)
        docs = await cursor.to_list()
        settled_before = time.time() - GAP_GRACE_S
        events: list[TaskEvent] = []
        expected = seq + 1
        for doc in docs:
            if doc["_id"] != expected and doc.get("written_at", 0.0) > settled_before:
                break  # a lower seq may still be in flight; read it next time
            events.append(document_to_event(doc))
            expected = int(doc["_id"]) + 1
        return events

    async def last_seq(self) -> int:
        doc = await self._db.task_events.find_one({}, sort=[("_id", -1)])
        return int(doc["_id"]) if doc else 0
