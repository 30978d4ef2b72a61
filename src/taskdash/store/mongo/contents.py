"""MongoDB collections read whole and written back keeping every `_id` (`taskdash store copy`).

A put inserts the whole batch unordered (one round trip when the target is new) and replaces
only the documents whose `_id` was already taken; a replace by identical content modifies
nothing, so a re-run counts nothing as written.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bson.int64 import Int64
from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError, OperationFailure

from taskdash.domain.models import DeadLetter, Service, Session, Task, TaskEvent, User
from taskdash.domain.ports import CursorRecord, HeartbeatRecord, MetadataRecord
from taskdash.store.mongo.accounts import (
    _to_session,
    _to_user,
    session_to_document,
    user_to_document,
)
from taskdash.store.mongo.client import (
    Collection,
    Database,
    Document,
    duplicate_key_indexes,
    reading,
    writing,
)
from taskdash.store.mongo.dead_letters import _to_letter, letter_to_document
from taskdash.store.mongo.history import SEQUENCE, document_to_event, event_to_document
from taskdash.store.mongo.services import _to_service
from taskdash.store.mongo.task_counts import MongoTaskCounts
from taskdash.store.mongo.task_documents import document_to_task, task_to_document

R = TypeVar("R")
AfterPut = Callable[[Database, Sequence[Document]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Shape(Generic[R]):
    """How one kind of record is stored as documents."""

    collection: str
    order: tuple[str, ...]  # the key order of pages
    to_document: Callable[[R], Document]
    from_document: Callable[[Document], R]
    after_put: AfterPut | None = None
    counted: bool = False  # tasks: a put moves the task counts (task_counts.py)


class MongoTable(Generic[R]):
    """RecordTable on one collection."""

    def __init__(self, db: Database, shape: Shape[R]) -> None:
        self._db = db
        self._collection: Collection = db[shape.collection]
        self._shape = shape
        self._counts = MongoTaskCounts(db) if shape.counted else None

    async def count(self) -> int:
        with reading():
            try:
                # A stored count; FerretDB answers the estimated count with a full scan.
                stats = await self._db.command("collStats", self._shape.collection)
                return int(stats.get("count", 0))
            except OperationFailure:  # e.g. a server without collStats
                return await self._collection.estimated_document_count()

    async def pages(self, *, size: int, in_key_order: bool) -> AsyncGenerator[list[R], None]:
        sort = [(name, 1) for name in self._shape.order] if in_key_order else None
        cursor = self._collection.find({}, sort=sort, batch_size=size)
        try:
            while True:
                with reading():
                    docs = await cursor.to_list(size)
                if not docs:
                    return
                yield [self._shape.from_document(doc) for doc in docs]
        finally:
            await cursor.close()

    async def put(self, records: Sequence[R]) -> int:
        docs = [self._shape.to_document(record) for record in records]
        if not docs:
            return 0
        with writing():
            written, taken = await self._insert(docs)
            before = await self._counted_before(taken)
            if taken:
                replaced = await self._collection.bulk_write(
                    [ReplaceOne({"_id": doc["_id"]}, doc) for doc in taken], ordered=False
                )
                written += replaced.modified_count
            if self._counts is not None:
                await self._counts.move(
                    (before.get(doc["_id"]), document_to_task(doc)) for doc in docs
                )
            if self._shape.after_put is not None:
                await self._shape.after_put(self._db, docs)
        return written

    async def _counted_before(self, taken: list[Document]) -> dict[str, Task]:
        """The counted tasks about to be replaced, as they are stored now."""
        if self._counts is None or not taken:
            return {}
        found = self._collection.find({"_id": {"$in": [doc["_id"] for doc in taken]}})
        return {doc["_id"]: document_to_task(doc) for doc in await found.to_list()}

    async def _insert(self, docs: list[Document]) -> tuple[int, list[Document]]:
        """Insert what is new; returns how many were and the documents whose `_id` is taken."""
        try:
            result = await self._collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            taken = [docs[index] for index in duplicate_key_indexes(exc)]
            return int(exc.details.get("nInserted", 0)), taken
        return len(result.inserted_ids), []


async def _move_event_counter(db: Database, docs: Sequence[Document]) -> None:
    """New history must get seqs above the copied ones."""
    highest = max(int(doc["_id"]) for doc in docs)
    await db.counters.update_one({"_id": SEQUENCE}, {"$max": {"value": highest}}, upsert=True)


def _service_document(s: Service) -> Document:
    return {
        "_id": s.url,
        "name": s.name,
        "reserved": s.reserved,
        "origin": s.origin,
        "registered_ts": Int64(s.registered_ts),
        "last_beat_ts": Int64(s.last_beat_ts),
        "last_beat_time": Int64(s.last_beat_time),
        "beat_reserved": s.beat_reserved,
        "online": s.online,
        "clock_skew": s.clock_skew,
        "health_changed_at": s.health_changed_at,
        "metadata_error": s.metadata_error,
        "metadata_synced_at": s.metadata_synced_at,
        "metadata_failures": s.metadata_failures,
        "metadata_next_at": s.metadata_next_at,
    }


def _heartbeat_document(h: HeartbeatRecord) -> Document:
    return {
        "_id": h.url,
        "time": Int64(h.time),
        "reserved": h.reserved,
        "ts": Int64(h.ts),
        "service": h.service,
        "count": h.count,
    }


def _heartbeat(doc: Document) -> HeartbeatRecord:
    return HeartbeatRecord(
        url=doc["_id"],
        time=int(doc.get("time", 0)),
        reserved=doc.get("reserved", ""),
        ts=int(doc.get("ts", 0)),
        service=doc.get("service", ""),
        count=int(doc.get("count", 0)),
    )


def _metadata_document(m: MetadataRecord) -> Document:
    return {
        "_id": m.id,
        "project_id": m.project_id,
        "instance_id": m.instance_id,
        "task_id": m.task_id,
        "type": m.type,
        "url": m.url,
        "status": m.status,
        "time": Int64(m.time),
        "reserved": m.reserved,
        "service": m.service,
        "fetched_at": m.fetched_at,
    }


def _metadata(doc: Document) -> MetadataRecord:
    return MetadataRecord(
        id=doc["_id"],
        project_id=doc["project_id"],
        instance_id=doc["instance_id"],
        task_id=doc["task_id"],
        type=doc["type"],
        url=doc.get("url", ""),
        status=doc.get("status", ""),
        time=int(doc.get("time", 0)),
        reserved=doc.get("reserved", ""),
        service=doc.get("service", ""),
        fetched_at=float(doc.get("fetched_at", 0.0)),
    )


TASKS: Shape[Task] = Shape("tasks", ("_id",), task_to_document, document_to_task, counted=True)
SERVICES: Shape[Service] = Shape("services", ("_id",), _service_document, _to_service)
HEARTBEATS: Shape[HeartbeatRecord] = Shape("heartbeats", ("_id",), _heartbeat_document, _heartbeat)
TASK_METADATA: Shape[MetadataRecord] = Shape(
    "task_metadata", ("_id",), _metadata_document, _metadata
)
USERS: Shape[User] = Shape("users", ("_id",), user_to_document, _to_user)
SESSIONS: Shape[Session] = Shape("sessions", ("_id",), session_to_document, _to_session)
# `written_at` (when a gap in seqs may still fill) is the event's own time: long past.
TASK_EVENTS: Shape[TaskEvent] = Shape(
    "task_events",
    ("_id",),
    lambda event: event_to_document(event, written_at=event.at),
    document_to_event,
    after_put=_move_event_counter,
)
DEAD_LETTERS: Shape[DeadLetter] = Shape(
    "dead_letters", ("at", "_id"), letter_to_document, _to_letter
)
CURSORS: Shape[CursorRecord] = Shape(
    "cursors",
    ("_id",),
    lambda c: {"_id": c.name, "value": c.value},
    lambda doc: CursorRecord(name=doc["_id"], value=int(doc["value"])),
)


class MongoContents:
    """StoreContents of one MongoDB database."""

    def __init__(self, db: Database) -> None:
        self.tasks = MongoTable(db, TASKS)
        self.services = MongoTable(db, SERVICES)
        self.heartbeats = MongoTable(db, HEARTBEATS)
        self.task_metadata = MongoTable(db, TASK_METADATA)
        self.users = MongoTable(db, USERS)
        self.sessions = MongoTable(db, SESSIONS)
        self.task_events = MongoTable(db, TASK_EVENTS)
        self.dead_letters = MongoTable(db, DEAD_LETTERS)
        self.cursors = MongoTable(db, CURSORS)
