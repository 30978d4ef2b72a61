"""MongoDB task repository: merges with optimistic `rev` checks, claims as conditional writes.

No transactions (FerretDB has none): every claim, release, assign and expiry is one
`find_one_and_update` whose filter carries its precondition, including the `rev` it was decided
on; a write that finds the task changed re-reads it and decides again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pymongo import ReturnDocument

from taskdash.domain import rules as domain_rules
from taskdash.domain.errors import (
    ClaimLimitReached,
    Forbidden,
    NothingToClaim,
    TaskNotClaimable,
    TaskNotFound,
)
from taskdash.domain.models import CLAIMED, UNCLAIMED, Task, TaskEvent, TaskQuery
from taskdash.domain.ports import AssignChange, ClaimRules, TaskMessageEnvelope
from taskdash.store.mongo.client import Database, Document, reading, writing
from taskdash.store.mongo.history import TaskHistory
from taskdash.store.mongo.merge import apply_envelopes
from taskdash.store.mongo.task_documents import (
    changed_fields,
    document_to_task,
    list_filter,
    list_sort,
)

MAX_CHANGE_ATTEMPTS = 5
MAX_CLAIM_NEXT_ATTEMPTS = 50

Decide = Callable[[Task], Task | None]


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
    def __init__(self, db: Database) -> None:
        self._tasks = db.tasks
        self._history = TaskHistory(db)

    async def apply_messages(self, envelopes: Sequence[TaskMessageEnvelope], *, now: float) -> int:
        with writing():
            changed, events = await apply_envelopes(self._tasks, envelopes, now=now)
            await self._history.record(events)
        return changed

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

    async def _write_change(
        self, before: Task, after: Task, *, condition: Document | None = None, now: float
    ) -> Task | None:
        """Write `after` if the task is still at `before.rev` (and matches `condition`)."""
        after.rev = before.rev + 1
        after.updated_at = now
        found = {"_id": before.id, "rev": before.rev, **(condition or {})}
        doc = await self._tasks.find_one_and_update(
            found, {"$set": changed_fields(before, after)}, return_document=ReturnDocument.AFTER
        )
        return document_to_task(doc) if doc else None

    async def _change(
        self,
        task_id: str,
        decide: Decide,
        *,
        condition: Document | None = None,
        first: Task | None = None,
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
            after = decide(before)
            if after is None:
                return before
            written = await self._write_change(before, after, condition=condition, now=now)
            if written is not None:
                event = domain_rules.change_event(
                    before, written, actor=actor, action=action, now=now, detail=detail
                )
                await self._history.record([event])
                return written
            before = None
        raise TaskNotClaimable("task changed meanwhile")

    async def _read(self, task_id: str) -> Task:
        doc = await self._tasks.find_one({"_id": task_id})
        if doc is None:
            raise TaskNotFound(task_id)
        return document_to_task(doc)

    async def _check_limit(self, rules: ClaimRules) -> None:
        # Counted before the conditional claim, not inside it: concurrent claims by the same user
        # can overshoot max_claims by their number on MongoDB (SQLite serialises them).
        if rules.max_claims and await self._unfinished(rules.user, rules.finished_statuses) >= (
            rules.max_claims
        ):
            raise ClaimLimitReached(f"{rules.user} holds {rules.max_claims} unfinished tasks")

    async def _unfinished(self, user: str, finished: Sequence[str]) -> int:
        if not user:
            return 0
        found: Document = {"user": user}
        if finished:
            found["status"] = {"$nin": list(finished)}
        return await self._tasks.count_documents(found)

    async def claim(self, *, task_id: str, rules: ClaimRules, now: float) -> Task:
        def decide(task: Task) -> Task:
            refusal = domain_rules.claim_error(task, rules)
            if refusal:
                raise refusal
            return domain_rules.claimed(task, user=rules.user, now=now)

        with writing():
            first = await self._read(task_id)
            decide(first)  # a refusal comes before the claim limit, as on SQLite
            await self._check_limit(rules)
            return await self._change(
                task_id,
                decide,
                condition=_claimable_filter(rules),
                first=first,
                actor=rules.actor or rules.user,
                action="claim",
                now=now,
            )

    async def claim_next(
        self,
        *,
        rules: ClaimRules,
        task_type: str | None,
        project_id: str | None,
        now: float,
    ) -> Task:
        query = domain_rules.claim_next_query(rules, task_type=task_type, project_id=project_id)
        with writing():
            for attempt in range(MAX_CLAIM_NEXT_ATTEMPTS):
                doc = await self._tasks.find_one(list_filter(query), sort=list_sort(query))
                if doc is None:
                    raise NothingToClaim()
                if attempt == 0:
                    await self._check_limit(rules)
                task = document_to_task(doc)
                after = domain_rules.claimed(task, user=rules.user, now=now)
                written = await self._write_change(
                    task, after, condition=_claimable_filter(rules), now=now
                )
                if written is not None:
                    actor = rules.actor or rules.user
                    event = domain_rules.change_event(
                        task, written, actor=actor, action="claim", now=now
                    )
                    await self._history.record([event])
                    return written
                # Someone else took it: the next query finds the next oldest.
        raise TaskNotClaimable("every claimable task was taken meanwhile; try again")

    async def release(
        self, *, task_id: str, holder: str | None, actor: str, action: str, now: float
    ) -> Task:
        def decide(task: Task) -> Task:
            if holder is not None:
                if task.user != holder:
                    raise Forbidden("only the holder or a manager can release a task")
                if task.status != CLAIMED:
                    raise TaskNotClaimable(f"task status is {task.status}, not {CLAIMED}")
            elif not task.user:
                raise TaskNotClaimable("task has no user")
            return domain_rules.released(task, now=now)

        with writing():
            return await self._change(task_id, decide, actor=actor, action=action, now=now)

    async def assign(self, *, task_id: str, change: AssignChange, actor: str, now: float) -> Task:
        detail = domain_rules.assign_detail(change)
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
        events: list[TaskEvent] = []
        with writing():
            cursor = (
                self._tasks.find({"status": CLAIMED, "claimed_at": {"$lt": claimed_before}})
                .sort("claimed_at", 1)
                .limit(limit)
            )
            for task in [document_to_task(doc) for doc in await cursor.to_list()]:
                if not task.user:
                    continue
                released = domain_rules.released(task, now=now)
                # Still the same claim: a release or re-claim meanwhile leaves it alone.
                condition = {"status": CLAIMED, "user": task.user, "claimed_at": task.claimed_at}
                written = await self._write_change(task, released, condition=condition, now=now)
                if written is not None:
                    expired.append(written)
                    events.append(
                        domain_rules.change_event(
                            task, written, actor="system", action="expire", now=now
                        )
                    )
            await self._history.record(events)
        return expired

    async def count_unfinished(
        self, *, users: Sequence[str], finished: Sequence[str]
    ) -> dict[str, int]:
        with reading():
            return {user: await self._unfinished(user, finished) for user in users}

    async def count_by_origin(self) -> dict[str, dict[str, int]]:
        # Only $group with $sum: what FerretDB v1 can aggregate.
        pipeline: list[Document] = [
            {"$group": {"_id": {"origin": "$origin", "status": "$status"}, "n": {"$sum": 1}}}
        ]
        out: dict[str, dict[str, int]] = {}
        with reading():
            groups = await (await self._tasks.aggregate(pipeline)).to_list()
        for group in groups:
            key, n = group["_id"], int(group["n"])
            counts = out.setdefault(
                key.get("origin", ""), {"total": 0, "unclaimed": 0, "claimed": 0}
            )
            counts["total"] += n
            if key.get("status") == UNCLAIMED:
                counts["unclaimed"] += n
            elif key.get("status") == CLAIMED:
                counts["claimed"] += n
        return out

    async def history(self, task_id: str, *, limit: int) -> list[TaskEvent]:
        with reading():
            return await self._history.for_task(task_id, limit=limit)

    async def events_after(self, seq: int, *, limit: int) -> list[TaskEvent]:
        with reading():
            return await self._history.after(seq, limit=limit)

    async def last_event_seq(self) -> int:
        with reading():
            return await self._history.last_seq()
