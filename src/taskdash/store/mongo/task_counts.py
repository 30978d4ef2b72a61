"""MongoDB task counts: `task_counts`, one document per (project, type, status, group, user,
checker), moved by `$inc` right after each task write from the write's exact before and after.

Without transactions a crash between a task write and its `$inc` leaves a count off, so a
repair (one instance at a time, under a lease) recounts soon after start and every
REPAIR_INTERVAL_S, and corrects the counts of a project/type that differ from the recount twice
in a row, by the same amount, while they did not move (a write whose `$inc` is in flight
differs only once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence

from pymongo import UpdateOne

from taskdash.domain.errors import StoreWriteError
from taskdash.domain.models import UNCLAIMED, Task
from taskdash.domain.ports import CountScope, LeaseRepo, TaskCount, UnclaimedKey
from taskdash.log_limits import RepeatedLog
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

COUNTED = ("project_id", "type", "status", "group", "user", "checker")
REPAIR_LEASE = "task-counts-repair"
REPAIR_INTERVAL_S = 600.0
REPAIR_CONFIRM_S = 5.0
REPAIR_FIRST_AFTER_S = 30.0
REPAIR_STOP_WAIT_S = 5.0

Key = tuple[str, str, str, str, str, str]
Change = tuple[Task | None, Task | None]  # a task before and after one write (None: absent)


def _key(task: Task) -> Key:
    return (task.project_id, task.type, task.status, task.group, task.user, task.checker)


def count_changes(changes: Iterable[Change]) -> Counter[Key]:
    """How each count moves with these writes (keys that do not move left out)."""
    delta: Counter[Key] = Counter()
    for before, after in changes:
        if before is not None:
            delta[_key(before)] -= 1
        if after is not None:
            delta[_key(after)] += 1
    return Counter({key: n for key, n in delta.items() if n})


def scope_filter(scope: CountScope, project: str | None, task_type: str | None) -> Document:
    """A filter over the counted fields, which tasks and `task_counts` share."""
    found: Document = {}
    if project is not None:
        found["project_id"] = project
    if task_type is not None:
        found["type"] = task_type
    if not scope.everyone:
        seen: list[Document] = [{"user": scope.user}]
        if scope.checker:
            seen.append({"checker": scope.user})
        if scope.groups:
            seen.append({"user": "", "status": UNCLAIMED, "group": {"$in": list(scope.groups)}})
        found["$or"] = seen
    return found


def _count(doc: Document, n: int) -> TaskCount:
    return TaskCount(
        project_id=str(doc.get("project_id", "")),
        type=str(doc.get("type", "")),
        status=str(doc.get("status", "")),
        group=str(doc.get("group", "")),
        user=str(doc.get("user", "")),
        checker=str(doc.get("checker", "")),
        n=n,
    )


class MongoTaskCounts:
    def __init__(self, db: Database) -> None:
        self._counts: Collection = db.task_counts
        self._tasks: Collection = db.tasks
        self._repair: asyncio.Task[None] | None = None
        self._repaired_before = False

    async def move(self, changes: Iterable[Change]) -> None:
        """Apply the count changes of task writes that are done (call right after them).

        The task writes stand whatever happens here: a failure is logged and left to the
        repair, never reported as a failed write (a retry would find nothing to change).
        """
        delta = count_changes(changes)
        if not delta:
            return
        try:
            await self._add(delta)
        except StoreWriteError as exc:
            repeated.warning("move", "mongodb: task counts not moved (repaired later): %s", exc)

    async def _add(self, delta: Counter[Key]) -> None:
        ops = [
            UpdateOne(
                {"_id": json.dumps(key, ensure_ascii=False)},
                {"$inc": {"n": n}, "$setOnInsert": dict(zip(COUNTED, key, strict=True))},
                upsert=True,
            )
            for key, n in sorted(delta.items())
        ]
        with writing():
            await self._counts.bulk_write(ops, ordered=False)

    async def counts(
        self, *, scope: CountScope, project: str | None, task_type: str | None
    ) -> list[TaskCount]:
        found = {**scope_filter(scope, project, task_type), "n": {"$gt": 0}}
        with reading():
            docs = await self._counts.find(found).to_list()
        return [_count(doc, int(doc["n"])) for doc in docs]

    async def recount(
        self, *, scope: CountScope, project: str | None, task_type: str | None
    ) -> list[TaskCount]:
        pipeline: list[Document] = [
            {"$match": scope_filter(scope, project, task_type)},
            {"$group": {"_id": {name: f"${name}" for name in COUNTED}, "n": {"$sum": 1}}},
        ]
        with reading():
            groups = await (await self._tasks.aggregate(pipeline)).to_list()
        return [_count(group["_id"], int(group["n"])) for group in groups]

    async def oldest_unclaimed(self, *, keys: Sequence[UnclaimedKey]) -> dict[UnclaimedKey, int]:
        found: dict[UnclaimedKey, int] = {}
        with reading():
            for project, task_type, group in keys:
                doc = await self._tasks.find_one(
                    {
                        "status": UNCLAIMED,
                        "user": "",
                        "project_id": project,
                        "type": task_type,
                        "group": group,
                    },
                    projection={"time": 1},
                    sort=[("time", 1)],
                )
                if doc is not None:
                    found[(project, task_type, group)] = int(doc["time"])
        return found

    async def repair(self, *, confirm_after_s: float = REPAIR_CONFIRM_S) -> int:
        """Correct the counts that differ from a recount twice, `confirm_after_s` apart, by the
        same amount (a write whose `$inc` is merely in flight differs only once); returns how
        many counts were corrected."""
        seen = await self._differences()
        if not seen:
            return 0
        await asyncio.sleep(confirm_after_s)
        again = await self._differences()
        fix = Counter({key: n for key, n in again.items() if seen.get(key) == n})
        if not fix:
            return 0
        await self._add(fix)
        log = logger.debug if self._repaired_before else logger.warning
        self._repaired_before = True
        log(
            "mongodb: %d task counts differed from a recount and were corrected (projects: %s)",
            len(fix),
            sorted({key[0] for key in fix})[:5],
        )
        return len(fix)

    async def _differences(self) -> Counter[Key]:
        """Recount minus kept, for each project/type whose counts did not move meanwhile."""
        first = await self._kept()
        recounted = await self.recount(scope=CountScope(), project=None, task_type=None)
        second = await self._kept()
        truth: Counter[Key] = Counter({_key_of(c): c.n for c in recounted})
        unsettled = {key[:2] for key in set(first) | set(second) if first[key] != second[key]}
        return Counter(
            {
                key: truth[key] - second[key]
                for key in set(truth) | set(second)
                if key[:2] not in unsettled and truth[key] != second[key]
            }
        )

    async def _kept(self) -> Counter[Key]:
        with reading():
            docs = await self._counts.find({"n": {"$ne": 0}}).to_list()
        return Counter({_key_of(_count(doc, int(doc["n"]))): int(doc["n"]) for doc in docs})

    def start_repairs(self, *, leases: LeaseRepo) -> None:
        """Repair soon after start and every REPAIR_INTERVAL_S, one instance at a time."""
        self._repair = asyncio.create_task(self._repair_loop(leases, uuid.uuid4().hex[:12]))

    async def _repair_loop(self, leases: LeaseRepo, holder: str) -> None:
        # Not at once: a store opened for a moment (a command, a copy) never starts a repair.
        await asyncio.sleep(REPAIR_FIRST_AFTER_S)
        while True:
            try:
                # Held for a whole interval and renewed by its holder: one repair per interval.
                if await leases.acquire_lease(
                    name=REPAIR_LEASE, holder=holder, now=time.time(), ttl_s=REPAIR_INTERVAL_S
                ):
                    await self.repair()
            except Exception:
                logger.warning("mongodb: task count repair failed; retried later", exc_info=True)
            await asyncio.sleep(REPAIR_INTERVAL_S)

    async def aclose(self) -> None:
        if self._repair is not None:
            self._repair.cancel()
            await asyncio.wait([self._repair], timeout=REPAIR_STOP_WAIT_S)
            self._repair = None


def _key_of(count: TaskCount) -> Key:
    return (count.project_id, count.type, count.status, count.group, count.user, count.checker)
