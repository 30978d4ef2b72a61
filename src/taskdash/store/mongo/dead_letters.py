"""MongoDB dead letters (`_id` = the letter's key, so adding one twice keeps one).

Listed newest first by (at, _id). A page cursor encodes the last letter's (at, _id) as decimal
digits, the shape the admin API accepts for every backend.
"""

from __future__ import annotations

import contextlib
import struct
import time
import uuid
from collections.abc import Sequence

from bson.int64 import Int64
from pymongo.errors import BulkWriteError, DuplicateKeyError

from taskdash.domain.errors import BadRequest
from taskdash.domain.models import DeadLetter
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing

DUPLICATE_KEY = 11000
BOUNDED_MARK = "dead_letters_bounded"
_CURSOR_MARK = b"\x01"  # keeps leading zero bytes of the float through the int round trip


def encode_cursor(at: float, key: str) -> str:
    return str(int.from_bytes(_CURSOR_MARK + struct.pack(">d", at) + key.encode(), "big"))


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        number = int(cursor)
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        if not raw.startswith(_CURSOR_MARK) or len(raw) < 9:
            raise ValueError("not a dead-letter cursor")
        (at,) = struct.unpack(">d", raw[1:9])
        return float(at), raw[9:].decode()
    except (ValueError, OverflowError) as exc:
        raise BadRequest("cursor is not one this API gave") from exc


def _to_letter(doc: Document) -> DeadLetter:
    # A letter kept before bodies were bounded (no `sha256`) is measured from its whole body.
    return DeadLetter(
        topic=doc["topic"],
        body=bytes(doc["body"]),
        reason=doc["reason"],
        attempts=int(doc["attempts"]),
        at=float(doc["at"]),
        key=doc["_id"],
        id=encode_cursor(float(doc["at"]), doc["_id"]),
        size=int(doc.get("size", -1)),
        sha256=doc.get("sha256", ""),
    )


def letter_to_document(letter: DeadLetter) -> Document:
    """Keyed by the dead-letter key, so that adding one again changes nothing."""
    return {
        "_id": letter.key or uuid.uuid4().hex,
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
        """Once per database (a mark in `migrations`): bound the letters kept whole before."""
        with writing():
            if await self._migrations.find_one({"_id": BOUNDED_MARK}) is not None:
                return 0
            cut = await bound_old_letters(self._letters)
            # Another instance starting at the same time may have set it first.
            with contextlib.suppress(DuplicateKeyError):
                await self._migrations.insert_one({"_id": BOUNDED_MARK, "at": time.time()})
            return cut

    async def add(self, letters: Sequence[DeadLetter]) -> None:
        docs = [letter_to_document(d) for d in letters]
        if not docs:
            return
        with writing():
            try:
                await self._letters.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                details = exc.details
                if details.get("writeConcernErrors") or any(
                    e.get("code") != DUPLICATE_KEY for e in details.get("writeErrors", [])
                ):
                    raise
                # Letters already kept (a redelivered message) stay as they were.

    async def recent(self, *, limit: int, before_id: str | None) -> list[DeadLetter]:
        found: Document = {}
        if before_id is not None:
            at, key = decode_cursor(before_id)
            found = {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": key}}]}
        cursor = self._letters.find(found).sort([("at", -1), ("_id", -1)]).limit(limit)
        with reading():
            return [_to_letter(doc) for doc in await cursor.to_list()]

    async def count(self) -> int:
        with reading():
            return await self._letters.count_documents({})
