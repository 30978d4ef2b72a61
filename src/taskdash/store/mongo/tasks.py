"""MongoDB task repository: merges with optimistic `rev` checks, claims as conditional writes.

No transactions (FerretDB has none): every claim, release, assign and expiry is one
`find_one_and_update` whose filter carries its precondition, including the `rev` it was decided
on, and which carries the change's history line (history.py); a write that finds the task
changed re-reads it and decides again. The claim limit is kept as claim_limit.py describes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from pymongo import ReturnDocument

from taskdash.domain import holding
from taskdash.domain import rules as domain_rules
from taskdash.domain.activity import activity_changes
from taskdash.domain.errors import NothingToClaim, TaskNotClaimable, TaskNotFound
from taskdash.domain.models import CLAIMED, UNCLAIMED, Task, TaskEvent, TaskQuery
from taskdash.domain.ports import AssignChange, ClaimRules, TaskMessageEnvelope
from taskdash.store.mongo.activity import MongoActivity
from taskdash.store.mongo.claim_limit import ClaimLimit
from taskdash.store.mongo.client import Database, Document, reading, writing
from taskdash.store.mongo.history import TaskHistory, pending_lines, with_pending
from taskdash.store.mongo.merge import apply_envelopes
from taskdash.store.mongo.task_counts import MongoTaskCounts
from taskdash.store.mongo.task_documents import (
    changed_fields,
    document_to_task,
    list_filter,
    list_sort,
)

MAX_CHANGE_ATTEMPTS = 5
MAX_CLAIM_NEXT_ATTEMPTS = 50
# Concurrent claim-nexts all read the same oldest task and all but one lose the race for it,
# again and again: each picks among as many of the oldest as claims are in flight here (or
# 2^attempt after lost races, for those of other instances), at most this many.
CLAIM_NEXT_WINDOW = 256

Decide = Callable[[Task], Task | None]
Read = tuple[Task, Document]  # a task and the document it was read from


def _claimable_filter(rules: ClaimRules) -> Document:
    """What claim_refusal checks, as a filter (so the write itself re-checks it)."""
    condition: Document = {
        "user": "",
        "status": UNCLAIMED,
        "group": {"$in": ["", rules.user_group] if rules.user_group else [""]},
    }
    if rules.offline_origins:
        condition["origin"] = {"$nin": list(rules.offline_origins)}
    return condition


class MongoTaskRepo:
    def __init__(self, db: Database, *, counts: MongoTaskCounts | None = None) -> None:
        self._tasks = db.tasks
        self._counts = counts or MongoTaskCounts(db)
        self._history = TaskHistory(db)
        self._activity = MongoActivity(db)
        self._limit = ClaimLimit(db)
        self._claims_in_flight = 0

    async def prepare(self) -> None:
        """At start-up: the history sequence is ready and left history lines are completed."""
        await self._history.prepare()

    async def apply_messages(self, *, envelopes: Sequence[TaskMessageEnvelope], now: float) -> int:
        with writing():
            return await apply_envelopes(
                self._tasks,
                self._history,
                self._counts,
                envelopes,
                activity=self._activity,
                now=now,
            )

    async def get(self, task_id: str) -> Task | None:
        with reading():
            doc = await self._tasks.find_one({"_id": task_id})
        return document_to_task(doc) if doc else None

    async def find(self, query: TaskQuery) -> list[Task]:
        cursor = (
            self._tasks.find(list_filter(query))
            .sort(list_sort(query))
            .skip(query.offset)
            .limit(query.limit)
        )
        with reading():
            return [document_to_task(doc) for doc in await cursor.to_list()]

    async def _read(self, task_id: str) -> Read:
        doc = await self._tasks.find_one({"_id": task_id})
        if doc is None:
            raise TaskNotFound(task_id)
        return document_to_task(doc), doc

    async def _write_change(
        self,
        before: Read,
        after: Task,
        *,
        condition: Document | None = None,
        actor: str,
        action: str,
        now: float,
        detail: str = "",
    ) -> Task | None:
        """Write `after` and its history line if the task is still at the `rev` read."""
        task, doc = before
        # This write replaces the lines the task carries: any not yet in `task_events` go
        # there first. Only a writer about to write does this, not every reader of a
        # contested task.
        await self._history.complete([doc])
        after.rev = task.rev + 1
        after.updated_at = now
        event = domain_rules.change_event(
            task, after, actor=actor, action=action, now=now, detail=detail
        )
        lines = pending_lines([event], rev=after.rev, now=now)
        found = {"_id": task.id, "rev": task.rev, **(condition or {})}
        fields = with_pending(changed_fields(task, after), lines, now=now)
        written = await self._tasks.find_one_and_update(
            found, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        if written is None:
            return None
        stored = document_to_task(written)
        await self._counts.move([(task, stored)])
        await self._history.insert(lines)
        await self._activity.record([activity_changes(task, stored, [event])])
        return stored

    async def _change(
        self,
        task_id: str,
        decide: Decide,
        *,
        condition: Document | None = None,
        first: Read | None = None,
        actor: str,
        action: str,
        now: float,
        detail: str = "",
    ) -> Task:
        """Read, decide (raising a domain error to refuse), write conditionally; retry on a race."""
        before = first
        for _ in range(MAX_CHANGE_ATTEMPTS):
            if before is None:
                before = await self._read(task_id)
            after = decide(before[0])
            if after is None:
                return before[0]
            written = await self._write_change(
                before,
                after,
                condition=condition,
                actor=actor,
                action=action,
                now=now,
                detail=detail,
            )
            if written is not None:
                return written
            before = None
        raise TaskNotClaimable("task changed meanwhile")

    async def _give_back_over_limit(self, task: Task, rules: ClaimRules, *, now: float) -> None:
        """Undo a claim that took its user over the limit (it overlapped another claim)."""
        if not await self._limit.exceeded(rules):
            return

        def decide(current: Task) -> Task | None:
            if current.user != rules.user or current.status != CLAIMED:
                return None  # no longer this claim: nothing to give back
            return domain_rules.released(current, now=now)

        await self._change(
            task.id,
            decide,
            actor="system",
            action="release",
            now=now,
            detail=holding.OVER_LIMIT_GIVEN_BACK,
        )
        raise holding.claim_limit_reached(rules)

    async def claim(self, *, task_id: str, rules: ClaimRules, now: float) -> Task:
        def decide(task: Task) -> Task:
            refusal = domain_rules.claim_error(task, rules)
            if refusal:
                raise refusal
            return domain_rules.claimed(task, user=rules.user, now=now)

        with writing():
            first = await self._read(task_id)
            decide(first[0])  # a refusal comes before the claim limit, as on SQLite
            async with self._limit.lined_up(rules):
                await self._limit.check(rules)
                written = await self._change(
                    task_id,
                    decide,
                    condition=_claimable_filter(rules),
                    first=first,
                    actor=rules.actor or rules.user,
                    action="claim",
                    now=now,
                )
                await self._give_back_over_limit(written, rules, now=now)
            return written

    async def claim_next(
        self,
        *,
        rules: ClaimRules,
        task_type: str | None,
        project_id: str | None,
        now: float,
    ) -> Task:
        query = domain_rules.claim_next_query(rules, task_type=task_type, project_id=project_id)
        self._claims_in_flight += 1
        try:
            return await self._claim_next(query, rules, now=now)
        finally:
            self._claims_in_flight -= 1

    async def _claim_next(self, query: TaskQuery, rules: ClaimRules, *, now: float) -> Task:
        with writing():
            async with self._limit.lined_up(rules):
                for attempt in range(MAX_CLAIM_NEXT_ATTEMPTS):
                    # Alone, the oldest; beside other claims in flight here, or after lost
                    # races, one of the oldest few at random.
                    window = max(self._claims_in_flight, 2**attempt)
                    skip = random.randrange(min(window, CLAIM_NEXT_WINDOW))
                    doc = await self._oldest_claimable(query, skip=skip)
                    if doc is None and skip:  # fewer left than skipped
                        doc = await self._oldest_claimable(query, skip=0)
                    if doc is None:
                        raise NothingToClaim()
                    if attempt == 0:
                        await self._limit.check(rules)
                    task = document_to_task(doc)
                    written = await self._write_change(
                        (task, doc),
                        domain_rules.claimed(task, user=rules.user, now=now),
                        condition=_claimable_filter(rules),
                        actor=rules.actor or rules.user,
                        action="claim",
                        now=now,
                    )
                    if written is not None:
                        await self._give_back_over_limit(written, rules, now=now)
                        return written
                    # Someone else took it: the next query looks at more of the oldest.
        raise TaskNotClaimable("every claimable task was taken meanwhile; try again")

    async def _oldest_claimable(self, query: TaskQuery, *, skip: int) -> Document | None:
        return await self._tasks.find_one(list_filter(query), sort=list_sort(query), skip=skip)

    async def release(
        self, *, task_id: str, holder: str | None, actor: str, action: str, now: float
    ) -> Task:
        def decide(task: Task) -> Task:
            refusal = holding.release_error(task, holder=holder)
            if refusal:
                raise refusal
            return domain_rules.released(task, now=now)

        with writing():
            return await self._change(task_id, decide, actor=actor, action=action, now=now)

    async def assign(
        self, *, task_id: str, change: AssignChange, actor: str, now: float, detail: str = ""
    ) -> Task:
        with writing():
            return await self._change(
                task_id,
                lambda task: domain_rules.assigned(task, change, now=now),
                actor=actor,
                action="assign",
                now=now,
                detail=detail,
            )

    async def expire_claims(self, *, claimed_before: float, now: float, limit: int) -> list[Task]:
        expired: list[Task] = []
        with writing():
            cursor = (
                self._tasks.find({"status": CLAIMED, "claimed_at": {"$lt": claimed_before}})
                .sort("claimed_at", 1)
                .limit(limit)
            )
            for doc in await cursor.to_list():
                task = document_to_task(doc)
                if not task.user:
                    continue
                released = domain_rules.released(task, now=now)
                # Still the same claim: a release or re-claim meanwhile leaves it alone.
                condition = {"status": CLAIMED, "user": task.user, "claimed_at": task.claimed_at}
                written = await self._write_change(
                    (task, doc),
                    released,
                    condition=condition,
                    actor="system",
                    action="expire",
                    now=now,
                )
                if written is not None:
                    expired.append(written)
        return expired

    async def count_unfinished(
        self, *, users: Sequence[str], finished: Sequence[str]
    ) -> dict[str, int]:
        with reading():
            return {user: await self._limit.unfinished(user, finished) for user in users}

    async def count_claimed_before(self, *, before: float) -> int:
        with reading():
            return await self._tasks.count_documents(
                {"status": CLAIMED, "claimed_at": {"$lt": before}}
            )

    async def count_of_origins(self, *, origins: Sequence[str]) -> int:
        with reading():
            return await self._tasks.count_documents({"origin": {"$in": list(origins)}})

    async def count_by_origin_status(self) -> dict[str, dict[str, int]]:
        # Only $group with $sum: what FerretDB v1 can aggregate.
        pipeline: list[Document] = [
            {"$group": {"_id": {"origin": "$origin", "status": "$status"}, "n": {"$sum": 1}}}
        ]
        out: dict[str, dict[str, int]] = {}
        with reading():
            groups = await (await self._tasks.aggregate(pipeline)).to_list()
        for group in groups:
            key = group["_id"]
            out.setdefault(key.get("origin", ""), {})[key.get("status", "")] = int(group["n"])
        return out

    async def history(self, *, task_id: str, limit: int) -> list[TaskEvent]:
        with reading():
            return await self._history.for_task(task_id, limit=limit)

    async def events_after(self, *, seq: int, limit: int) -> list[TaskEvent]:
        with reading():
            return await self._history.after(seq, limit=limit)

    async def last_event_seq(self) -> int:
        with reading():
            return await self._history.last_seq()
