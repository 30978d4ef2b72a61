"""Activity rollups in MongoDB: `$inc` upserts by the writer of each task change, and their reads.

Without transactions the rollups are written just after the task write that they count (by the
writer that won it, so a lost race or a redelivery counts nothing twice); a cycle record is
upserted under its line's identity. A process that dies between the two writes leaves that
change uncounted: the rollups then fall short of a recount by it (docs/operations.md).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from taskdash.domain.activity import (
    ActivityChanges,
    ActivityScope,
    CycleKey,
    CycleSummary,
    HourCounts,
    HourlyActivity,
    PersonCounts,
    summaries_by,
)
from taskdash.store.mongo.client import Collection, Database, Document, duplicate_key_indexes
from taskdash.store.mongo.client import reading as reading_store

logger = logging.getLogger(__name__)

HOURLY_KEY = ("hour", "project_id", "type", "group", "user")
TRANSITION_KEY = ("hour", "project_id", "type", "user", "from_status", "to_status")
STATUS_KEY = ("hour", "project_id", "type", "from_status", "to_status")
QUEUE_KEY = ("project_id", "type", "group")
HOLDING_KEY = ("user", "project_id", "type", "status")


def _inc(names: Sequence[str], key: Sequence[Any], counts: dict[str, int]) -> UpdateOne:
    return UpdateOne(dict(zip(names, key, strict=True)), {"$inc": counts}, upsert=True)


def _summed(
    names: Sequence[str], items: Iterable[tuple[Sequence[Any], Mapping[str, int]]]
) -> list[UpdateOne]:
    """One `$inc` per key with the batch's sums (a batch's changes mostly share a few keys:
    one upsert each, not one per task, which would queue on the same document)."""
    sums: dict[tuple[Any, ...], Counter[str]] = {}
    for key, counts in items:
        sums.setdefault(tuple(key), Counter()).update(counts)
    return [
        _inc(names, key, {field: n for field, n in counts.items() if n})
        for key, counts in sorted(sums.items(), key=lambda item: repr(item[0]))
        if any(counts.values())
    ]


def _counts(
    per_change: Iterable[Mapping[Any, int]],
) -> list[tuple[Sequence[Any], Mapping[str, int]]]:
    return [(key, {"count": n}) for counts in per_change for key, n in counts.items()]


async def _upsert(collection: Collection, ops: list[UpdateOne]) -> None:
    """Run the upserts; two first upserts of one key race, so the loser's is run again."""
    for _ in range(3):
        if not ops:
            return
        try:
            await collection.bulk_write(ops, ordered=False)
            return
        except BulkWriteError as exc:
            ops = [ops[index] for index in duplicate_key_indexes(exc)]


def _match(scope: ActivityScope, *, user: bool = False, groups: bool = False) -> Document:
    found: Document = {}
    if scope.project is not None:
        found["project_id"] = scope.project
    if scope.type is not None:
        found["type"] = scope.type
    if user and scope.user is not None:
        found["user"] = scope.user
    if groups and scope.groups is not None:
        found["group"] = {"$in": list(scope.groups)}
    return found


def _finishes(scope: ActivityScope) -> Document:
    finished = list(scope.finished)
    return {"to_status": {"$in": finished}, "from_status": {"$nin": finished}}


def _hours(scope: ActivityScope) -> Document:
    return {"hour": {"$gte": scope.since, "$lt": scope.until}}


class MongoActivity:
    """Writes the rollups of task changes and reads them (the ActivityStats port)."""

    def __init__(self, db: Database) -> None:
        self._hourly = db.activity_hourly
        self._transitions = db.activity_transitions
        self._statuses = db.activity_status_hourly
        self._queue = db.activity_queue
        self._holding = db.activity_holding
        self._cycles = db.activity_cycles

    async def record(self, changes: Sequence[ActivityChanges]) -> None:
        """Add the changes of task writes that succeeded; a failure is logged, not raised."""
        hourly = _summed(HOURLY_KEY, [kv for c in changes for kv in c.hourly.items()])
        transitions = _summed(TRANSITION_KEY, _counts(c.transitions for c in changes))
        statuses = _summed(STATUS_KEY, _counts(c.statuses for c in changes))
        queue = _summed(QUEUE_KEY, _counts(c.queue for c in changes))
        holding = _summed(HOLDING_KEY, _counts(c.holding for c in changes))
        cycles = [
            UpdateOne(
                {"_id": f"{line.task_id}@{line.at!r}:{line.from_status}>{line.to_status}"},
                {
                    "$setOnInsert": {
                        "changed_at": line.at,
                        "claimed_at": task.claimed_at,
                        "user": task.user,
                        "project_id": task.project_id,
                        "type": task.type,
                        "from_status": line.from_status,
                        "to_status": line.to_status,
                        "duration_s": (
                            None if task.claimed_at is None else max(0.0, line.at - task.claimed_at)
                        ),
                    }
                },
                upsert=True,
            )
            for c in changes
            for line, task in c.cycles
        ]
        try:
            for collection, ops in (
                (self._hourly, hourly),
                (self._transitions, transitions),
                (self._statuses, statuses),
                (self._queue, queue),
                (self._holding, holding),
                (self._cycles, cycles),
            ):
                await _upsert(collection, ops)
        except PyMongoError as exc:
            logger.error("activity rollups: a change was not counted: %s", exc)

    async def _sum_by(
        self, collection: Collection, found: Document, key: str, fields: Sequence[str]
    ) -> list[Document]:
        group: Document = {"_id": f"${key}", **{f: {"$sum": f"${f}"} for f in fields}}
        cursor = await collection.aggregate([{"$match": found}, {"$group": group}])
        return await cursor.to_list()

    async def _total(self, collection: Collection, found: Document, field: str) -> int:
        rows = await self._sum_by(collection, found, "__all", [field])
        return int(rows[0][field]) if rows else 0

    async def hourly_activity(self, *, scope: ActivityScope) -> HourlyActivity:
        hours: dict[int, HourCounts] = {}
        queue_match = _match(scope, groups=True)
        user_match = _match(scope, user=True)
        own = scope.user is not None
        with reading_store():
            # The documents of no user hold each group's totals (everyone's claims among them).
            for row in await self._sum_by(
                self._hourly,
                {**_hours(scope), "user": "", **queue_match},
                "hour",
                ["created", "queue_delta", "claimed"],
            ):
                counts = hours.setdefault(int(row["_id"]), HourCounts())
                counts.created, counts.queue_delta = row["created"], row["queue_delta"]
                counts.claimed = 0 if own else row["claimed"]
            if own:
                for row in await self._sum_by(
                    self._hourly, {**_hours(scope), **user_match}, "hour", ["claimed"]
                ):
                    hours.setdefault(int(row["_id"]), HourCounts()).claimed = row["claimed"]
            finishes = self._transitions if own else self._statuses
            for row in await self._sum_by(
                finishes, {**_hours(scope), **_finishes(scope), **user_match}, "hour", ["count"]
            ):
                hours.setdefault(int(row["_id"]), HourCounts()).finished = row["count"]
            now_length = await self._total(self._queue, queue_match, "count")
            later = await self._total(
                self._hourly,
                {"hour": {"$gte": scope.until}, "user": "", **queue_match},
                "queue_delta",
            )
        hours = {hour: counts for hour, counts in hours.items() if _any(counts)}
        return HourlyActivity(hours=hours, queue_at_until=now_length - later)

    async def people_activity(self, *, scope: ActivityScope) -> dict[str, PersonCounts]:
        people: dict[str, PersonCounts] = {}
        match = _match(scope, user=True)
        with reading_store():
            held = {"status": {"$nin": list(scope.finished)}, **match}
            for row in await self._sum_by(self._holding, held, "user", ["count"]):
                if row["count"] > 0:
                    people.setdefault(row["_id"], PersonCounts()).holding = row["count"]
            hourly = {**_hours(scope), "user": {"$gt": ""}, **match}
            for row in await self._sum_by(self._hourly, hourly, "user", ["released", "expired"]):
                if row["released"] or row["expired"]:
                    counts = people.setdefault(row["_id"], PersonCounts())
                    counts.releases, counts.expiries = row["released"], row["expired"]
        return people

    async def cycle_summaries(
        self,
        *,
        scope: ActivityScope,
        keys: Sequence[CycleKey],
        members: Mapping[str, str] | None = None,
    ) -> dict[CycleKey, dict[str, CycleSummary]]:
        found = {
            "changed_at": {"$gte": scope.since, "$lt": scope.until},
            **_finishes(scope),
            **_match(scope, user=True),
        }
        projection = {"type": 1, "user": 1, "duration_s": 1}
        with reading_store():
            docs = await self._cycles.find(found, projection).to_list()
        rows = [(doc["type"], doc["user"], doc.get("duration_s")) for doc in docs]
        return summaries_by(rows, keys, members)


def _any(counts: HourCounts) -> bool:
    return bool(counts.created or counts.claimed or counts.finished or counts.queue_delta)
