"""MongoDB dead letters (`_id` = the letter's key, so adding one twice keeps one).

Listed newest first by (at, _id). A letter's id (and the page cursor after it) is its
`short_id`: 63 bits of the SHA-256 of its key, at most 19 decimal digits like a SQLite row id;
derived from the key, it is the same on every instance and after a copy. A cursor is looked up
to the (at, _id) it stands for, so pages stay exact keyset pages. Letters kept before short ids
are given theirs when the store opens (or when a cursor names one not yet given).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Sequence

from bson.int64 import Int64
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from taskdash.domain.errors import BadRequest
from taskdash.domain.models import DeadLetter
from taskdash.store.mongo.client import (
    Collection,
    Database,
    Document,
    duplicate_key_indexes,
    reading,
    writing,
)

BOUNDED_MARK = "dead_letters_bounded"
SHORT_IDS_MARK = "dead_letters_short_ids"
INT64_MAX = 2**63 - 1
BACKFILL_BATCH = 1000


def short_id(key: str) -> int:
    """A letter's id: the first 63 bits of the SHA-256 of its key (an int64)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1


def _cursor_id(cursor: str) -> int:
    if not (len(cursor) <= 19 and cursor.isascii() and cursor.isdigit()) or int(cursor) > INT64_MAX:
        raise BadRequest("cursor is not one this API gave")
    return int(cursor)


def _to_letter(doc: Document) -> DeadLetter:
    # A letter kept before bodies were bounded (no `sha256`) is measured from its whole body.
    return DeadLetter(
        topic=doc["topic"],
        body=bytes(doc["body"]),
        reason=doc["reason"],
        attempts=int(doc["attempts"]),
        at=float(doc["at"]),
        key=doc["_id"],
        id=str(short_id(doc["_id"])),
        size=int(doc.get("size", -1)),
        sha256=doc.get("sha256", ""),
    )


def letter_to_document(letter: DeadLetter) -> Document:
    """Keyed by the dead-letter key, so that adding one again changes nothing."""
    key = letter.key or uuid.uuid4().hex
    return {
        "_id": key,
        "short_id": Int64(short_id(key)),
        "topic": letter.topic,
        "body": letter.body,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "at": letter.at,
        "size": Int64(letter.size),
        "sha256": letter.sha256,
    }


async def bound_old_letters(letters: Collection) -> int:
    """Cut letters kept whole before bodies were bounded to their start; how many were cut."""
    cut = 0
    async for doc in letters.find({"sha256": {"$exists": False}}):
        bounded = letter_to_document(_to_letter(doc))
        del bounded["_id"]
        # Conditional, so that instances starting together do not cut one letter twice.
        done = await letters.update_one(
            {"_id": doc["_id"], "sha256": {"$exists": False}}, {"$set": bounded}
        )
        cut += done.modified_count
    return cut


class MongoDeadLetterRepo:
    def __init__(self, db: Database) -> None:
        self._letters: Collection = db.dead_letters
        self._migrations: Collection = db.migrations

    async def bound_old_letters(self) -> int:
        """Once per database (marks in `migrations`): bound old letters, give them short ids."""
        with writing():
            cut = 0
            if await self._migrations.find_one({"_id": BOUNDED_MARK}) is None:
                cut = await bound_old_letters(self._letters)
                await self._mark(BOUNDED_MARK)
            if await self._migrations.find_one({"_id": SHORT_IDS_MARK}) is None:
                await self._give_short_ids()
                await self._mark(SHORT_IDS_MARK)
            return cut

    async def _mark(self, name: str) -> None:
        # Another instance starting at the same time may have set it first.
        with contextlib.suppress(DuplicateKeyError):
            await self._migrations.insert_one({"_id": name, "at": time.time()})

    async def _give_short_ids(self) -> None:
        """Store the short id of every letter kept without one (idempotent: it is derived)."""
        # `null` matches a missing field and is served by the index on short_id.
        cursor = self._letters.find({"short_id": None}, {"_id": 1})
        batch: list[UpdateOne] = []
        async for doc in cursor:
            batch.append(
                UpdateOne({"_id": doc["_id"]}, {"$set": {"short_id": Int64(short_id(doc["_id"]))}})
            )
            if len(batch) == BACKFILL_BATCH:
                await self._letters.bulk_write(batch, ordered=False)
                batch = []
        if batch:
            await self._letters.bulk_write(batch, ordered=False)

    async def _position(self, cursor: str) -> tuple[float, str]:
        """The (at, _id) of the letter a cursor names."""
        found = {"short_id": Int64(_cursor_id(cursor))}
        doc = await self._letters.find_one(found, {"at": 1})
        if doc is None:
            # Perhaps a letter an older instance kept since the store opened: give it its id.
            with writing():
                await self._give_short_ids()
            doc = await self._letters.find_one(found, {"at": 1})
        if doc is None:
            raise BadRequest("cursor is not one this API gave")
        return float(doc["at"]), doc["_id"]

    async def add(self, letters: Sequence[DeadLetter]) -> None:
        docs = [letter_to_document(d) for d in letters]
        if not docs:
            return
        with writing():
            try:
                await self._letters.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                # Letters already kept (a redelivered message) stay as they were.
                duplicate_key_indexes(exc)

    async def recent(self, *, limit: int, before_id: str | None) -> list[DeadLetter]:
        found: Document = {}
        with reading():
            if before_id is not None:
                at, key = await self._position(before_id)
                found = {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": key}}]}
            cursor = self._letters.find(found).sort([("at", -1), ("_id", -1)]).limit(limit)
            return [_to_letter(doc) for doc in await cursor.to_list()]

    async def count_since(self, *, since: float) -> int:
        with reading():
            return await self._letters.count_documents({"at": {"$gte": since}})

    async def count(self) -> int:
        with reading():
            return await self._letters.count_documents({})
