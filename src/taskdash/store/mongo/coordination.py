"""MongoDB leases (`leases`) and cursors (`cursors`) shared by every instance."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from taskdash.store.mongo.client import Collection, Database, reading, writing


class MongoCoordinationRepo:
    def __init__(self, db: Database) -> None:
        self._leases: Collection = db.leases
        self._cursors: Collection = db.cursors

    async def acquire_lease(self, *, name: str, holder: str, now: float, ttl_s: float) -> bool:
        # Renew our own or take an expired lease; if someone else holds it unexpired the filter
        # matches nothing, and the upsert's insert of the same _id is refused.
        with writing():
            try:
                await self._leases.update_one(
                    {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
                    {"$set": {"holder": holder, "expires_at": now + ttl_s}},
                    upsert=True,
                )
            except DuplicateKeyError:
                return False
        return True

    async def release_lease(self, *, name: str, holder: str) -> None:
        with writing():
            await self._leases.delete_one({"_id": name, "holder": holder})

    async def get_cursor(self, name: str) -> int:
        with reading():
            doc = await self._cursors.find_one({"_id": name})
        return int(doc["value"]) if doc else 0

    async def advance_cursor(self, *, name: str, expected: int, to: int) -> bool:
        with writing():
            try:
                result = await self._cursors.update_one(
                    {"_id": name, "value": expected},
                    {"$set": {"value": to}},
                    upsert=expected == 0,  # a cursor that was never moved is at 0
                )
            except DuplicateKeyError:
                return False
        return result.matched_count == 1 or result.upserted_id is not None
