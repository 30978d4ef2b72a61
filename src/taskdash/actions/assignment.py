"""Assigning tasks (managers): the plan of an assignment, its dry run, and writing it (SPEC §6)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from taskdash.actions.tasks import MAX_PAGE, TaskActionStore, require_role
from taskdash.domain import holding, rules
from taskdash.domain.errors import BadRequest, TaskDashError
from taskdash.domain.models import Role, Task, TaskQuery, User
from taskdash.domain.ports import AssignChange
from taskdash.metrics import CLAIMS
from taskdash.settings import Settings

MAX_BULK_ASSIGN = 10_000


@dataclass(frozen=True, slots=True)
class AssignOutcome:
    assigned: list[Task]
    failed: dict[str, TaskDashError]


@dataclass(frozen=True, slots=True)
class AssignPlan:
    """What an assignment would write: the change per task, and who it takes over the limit.

    `users`: task ID -> user when a strategy picks them (empty otherwise); `members`: the
    strategy's group members, sorted; `load`: unfinished tasks per user, where they were read.
    """

    task_ids: Sequence[str]
    change: AssignChange
    users: dict[str, str]
    members: list[str]
    load: dict[str, int]
    over_limit: set[str]
    limit: int  # the claim limit it was checked against (0: none)

    def change_for(self, task_id: str) -> AssignChange:
        """The change written to one task."""
        change = replace(self.change, user=self.users[task_id]) if self.users else self.change
        return replace(change, over_limit=True) if change.user in self.over_limit else change

    def shares(self) -> dict[str, list[str]]:
        """Who gets which tasks (a strategy's members in order, none left out); empty when the
        user is left as it is ('' takes it off)."""
        if self.users:
            shares: dict[str, list[str]] = {member: [] for member in self.members}
            for task_id, member in self.users.items():
                shares[member].append(task_id)
            return shares
        user = self.change.user
        return {} if user is None else {user: list(dict.fromkeys(self.task_ids))}


async def plan_assign(
    *,
    store: TaskActionStore,
    settings: Settings,
    actor: User,
    task_ids: Sequence[str],
    change: AssignChange,
    strategy: rules.AssignStrategy | None = None,
) -> AssignPlan:
    """The plan `assign` carries out, read without writing (also answers a dry run)."""
    require_role(actor, Role.MANAGER)
    if len(task_ids) > MAX_BULK_ASSIGN:
        raise BadRequest(f"at most {MAX_BULK_ASSIGN} tasks per assignment")
    # Names are unique without regard to case: the stored spelling is what is set.
    change = replace(
        change,
        user=await _active_user_name(store, change.user),
        checker=await _active_user_name(store, change.checker),
    )
    users: dict[str, str] = {}
    members: list[str] = []
    load: dict[str, int] | None = None  # unfinished tasks per member, when a strategy read them
    if strategy is not None:
        if not change.group:
            raise BadRequest("give a group for a strategy")
        members = sorted(
            u.name
            for u in await store.accounts.list_users()
            if u.group == change.group and not u.disabled
        )
        if not members:
            raise BadRequest(f"group {change.group} has no active members")
        load = await store.tasks.count_unfinished(
            users=members, finished=tuple(settings.finished_statuses)
        )
        users = rules.plan_assignment(task_ids, members=members, strategy=strategy, load=load)
    given = Counter((users or dict.fromkeys(task_ids, change.user or "")).values())
    del given[""]
    limit = settings.max_claims_per_user
    if limit and given and load is None:
        load = await store.tasks.count_unfinished(
            users=sorted(given), finished=tuple(settings.finished_statuses)
        )
    load = load or {}
    over = holding.over_limit_after_assign(given, held=load, limit=limit)
    return AssignPlan(
        task_ids=task_ids,
        change=change,
        users=users,
        members=members,
        load=load,
        over_limit=over,
        limit=limit,
    )


async def write_assignment(
    *, store: TaskActionStore, actor: User, plan: AssignPlan, override_limit: bool = False
) -> AssignOutcome:
    """Carry out a plan of `plan_assign`; beyond a claim limit only with `override_limit`."""
    require_role(actor, Role.MANAGER)
    if plan.over_limit and not override_limit:
        user = min(plan.over_limit)
        would_hold = plan.load.get(user, 0) + len(plan.shares()[user])
        raise holding.assign_limit_reached(user, would_hold=would_hold, limit=plan.limit)
    now = time.time()
    assigned: list[Task] = []
    failed: dict[str, TaskDashError] = {}
    for task_id in plan.task_ids:
        change = plan.change_for(task_id)
        try:
            assigned.append(
                await store.tasks.assign(
                    task_id=task_id,
                    change=change,
                    actor=actor.name,
                    now=now,
                    detail=rules.assign_detail(change),
                )
            )
        except TaskDashError as exc:
            failed[task_id] = exc
    CLAIMS.labels("assign").inc(len(assigned))
    return AssignOutcome(assigned=assigned, failed=failed)


async def assign(
    *,
    store: TaskActionStore,
    settings: Settings,
    actor: User,
    task_ids: Sequence[str],
    change: AssignChange,
    strategy: rules.AssignStrategy | None = None,
    override_limit: bool = False,
) -> AssignOutcome:
    """Set user/checker/group on tasks; with a strategy, users come from `change.group`.

    Giving a user more unfinished tasks than the claim limit needs `override_limit`, which
    the history of each such task records.
    """
    plan = await plan_assign(
        store=store,
        settings=settings,
        actor=actor,
        task_ids=task_ids,
        change=change,
        strategy=strategy,
    )
    return await write_assignment(
        store=store, actor=actor, plan=plan, override_limit=override_limit
    )


async def _active_user_name(store: TaskActionStore, name: str | None) -> str | None:
    """The stored spelling of an active user's name; None and '' pass through."""
    if not name:
        return name
    target = await store.accounts.get_user(name)
    if target is None or target.disabled:
        raise BadRequest(f"no active user {name}")
    return target.name


async def ids_matching(
    *, store: TaskActionStore, query: TaskQuery, limit: int = MAX_BULK_ASSIGN
) -> list[str]:
    """IDs of every task matching a filter (for assign-by-filter), page by page."""
    ids: list[str] = []
    page = replace(query, limit=min(MAX_PAGE, limit), after=None)
    while len(ids) < limit:
        tasks = await store.tasks.find(page)
        ids.extend(t.id for t in tasks)
        if len(tasks) < page.limit:
            break
        page = replace(page, after=(tasks[-1].time, tasks[-1].id))
    return ids[:limit]
