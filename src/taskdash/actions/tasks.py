"""Task operations for people: who may see, claim, release and assign what (SPEC §6, §7)."""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from taskdash.domain.errors import (
    BadRequest,
    Forbidden,
    TaskNotFound,
)
from taskdash.domain.models import UNCLAIMED, Role, Task, TaskEvent, TaskQuery, User
from taskdash.domain.ports import (
    ClaimRules,
    ServiceReads,
    TaskClaims,
    TaskHistory,
    TaskReads,
    UserRepo,
)
from taskdash.domain.task_sorts import sort_key
from taskdash.domain.user_names import user_name_key
from taskdash.metrics import CLAIMS
from taskdash.settings import Settings

MAX_PAGE = 1000


class ServiceReadStore(Protocol):
    """What finding offline services uses of the store."""

    @property
    def services(self) -> ServiceReads: ...


class ActionTasks(TaskReads, TaskClaims, TaskHistory, Protocol):
    """The parts of the tasks the task actions use: reads, claims and a task's history."""


class TaskActionStore(Protocol):
    """What the task actions use of the store (a whole Store is one)."""

    @property
    def tasks(self) -> ActionTasks: ...

    @property
    def accounts(self) -> UserRepo: ...

    @property
    def services(self) -> ServiceReads: ...


async def offline_origins(store: ServiceReadStore) -> tuple[str, ...]:
    """Origins whose every registered service is offline (their tasks cannot be claimed)."""
    state: dict[str, bool] = {}
    for service in await store.services.all():
        state[service.origin] = state.get(service.origin, False) or service.online
    return tuple(sorted(origin for origin, online in state.items() if not online))


def claim_rules(
    user: User, settings: Settings, offline: tuple[str, ...], *, actor: User | None = None
) -> ClaimRules:
    return ClaimRules(
        user=user.name,
        actor=(actor or user).name,
        user_group=user.group,
        max_claims=settings.max_claims_per_user,
        finished_statuses=tuple(settings.finished_statuses),
        offline_origins=offline,
        sees_all=(actor or user).role >= Role.MANAGER,
    )


def require_role(user: User, role: Role) -> None:
    if user.role < role:
        raise Forbidden(f"needs the {role.label} role")


@dataclass(frozen=True, slots=True)
class TaskListing:
    tasks: list[Task]
    offline: tuple[str, ...]  # origins whose every service is offline


@dataclass(frozen=True, slots=True)
class TaskWithHistory:
    task: Task
    history: list[TaskEvent]  # newest first
    offline: tuple[str, ...]


def can_see(user: User, task: Task) -> bool:
    """Managers see everything; others their own tasks, ones they check, and unclaimed ones."""
    if user.role >= Role.MANAGER:
        return True
    if task.user == user.name or (user.role >= Role.CHECKER and task.checker == user.name):
        return True
    return not task.user and task.status == UNCLAIMED and task.group in ("", user.group)


def unclaimed_query(user: User, base: TaskQuery, offline: tuple[str, ...]) -> TaskQuery:
    """Claimable tasks for `user`: unclaimed, in no group or theirs, service not offline."""
    groups = None if user.role >= Role.MANAGER else tuple(sorted({"", user.group}))
    return replace(base, status=UNCLAIMED, user="", groups=groups, exclude_origins=offline)


def visible_scopes(user: User, base: TaskQuery) -> list[TaskQuery]:
    """The index-served queries whose union is what `user` may see of `base`."""
    if user.role >= Role.MANAGER:
        return [base]
    scopes = []
    if base.user in (None, user.name):
        scopes.append(replace(base, user=user.name))
    if user.role >= Role.CHECKER and base.checker in (None, user.name) and base.user is None:
        scopes.append(replace(base, checker=user.name))
    if base.status in (None, UNCLAIMED) and base.user in (None, ""):
        # Listed, not claimed: tasks of offline services stay visible (marked as such).
        scopes.append(unclaimed_query(user, base, base.exclude_origins))
    return scopes


async def list_tasks(*, store: TaskActionStore, user: User, query: TaskQuery) -> list[Task]:
    """One page of what `user` may see of `query`, in the query's order."""
    if query.user is not None and query.user not in ("", user.name):
        require_role(user, Role.MANAGER)
    scopes = visible_scopes(user, query)
    return await find_in_scopes(store=store, scopes=scopes, query=query)


async def find_in_scopes(
    *, store: TaskActionStore, scopes: Sequence[TaskQuery], query: TaskQuery
) -> list[Task]:
    """One page of `query` over the union of `scopes` (each `query` with other filters)."""
    if len(scopes) == 1:
        return await store.tasks.find(scopes[0])
    # An offset counts over the union, so each scope is read from its start up to the window.
    window = query.offset + query.limit
    pages = [await store.tasks.find(replace(scope, offset=0, limit=window)) for scope in scopes]
    return merge_pages(pages, query=query, limit=window)[query.offset :]


def merge_pages(pages: Sequence[list[Task]], *, query: TaskQuery, limit: int) -> list[Task]:
    """Merge pages that are each in `query`'s order, dropping repeats."""
    seen: set[str] = set()
    merged: list[Task] = []
    order = query.sort
    for task in heapq.merge(*pages, key=lambda t: sort_key(t, order), reverse=query.newest_first):
        if task.id not in seen:
            seen.add(task.id)
            merged.append(task)
            if len(merged) == limit:
                break
    return merged


async def list_page(
    *, store: TaskActionStore, user: User, query: TaskQuery, unclaimed: bool, online: bool | None
) -> TaskListing:
    """One page of what `user` may see (or, `unclaimed`, may claim) of `query`; `online`
    keeps only tasks of services that are online (True) or offline (False)."""
    scopes = await list_scopes(
        store=store, user=user, query=query, unclaimed=unclaimed, online=online
    )
    page = await find_in_scopes(store=store, scopes=scopes.queries, query=query)
    return TaskListing(tasks=page, offline=scopes.offline)


@dataclass(frozen=True, slots=True)
class ListScopes:
    queries: list[TaskQuery]  # their union is the list
    offline: tuple[str, ...]  # origins whose every service is offline


async def list_scopes(
    *, store: ServiceReadStore, user: User, query: TaskQuery, unclaimed: bool, online: bool | None
) -> ListScopes:
    """The index-served queries whose union is a list_page's list (its order and page kept)."""
    offline = await offline_origins(store)
    if online is True:
        query = replace(query, exclude_origins=offline)
    elif online is False:
        query = replace(query, origins=offline)
    if unclaimed:
        return ListScopes([unclaimed_query(user, query, offline)], offline)
    if query.user is not None and query.user not in ("", user.name):
        require_role(user, Role.MANAGER)
    return ListScopes(visible_scopes(user, query), offline)


async def list_unclaimed(*, store: TaskActionStore, user: User, query: TaskQuery) -> list[Task]:
    """What `user` can claim of `query` (services that are offline left out)."""
    offline = await offline_origins(store)
    return await store.tasks.find(unclaimed_query(user, query, offline))


async def task_with_history(
    *, store: TaskActionStore, user: User, task_id: str, limit: int
) -> TaskWithHistory:
    task = await get_task(store=store, user=user, task_id=task_id)
    offline = await offline_origins(store)
    history = await store.tasks.history(task_id=task_id, limit=limit)
    return TaskWithHistory(task=task, history=history, offline=offline)


async def get_task(*, store: TaskActionStore, user: User, task_id: str) -> Task:
    task = await store.tasks.get(task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if not can_see(user, task):
        raise TaskNotFound(task_id)  # exactly as if it did not exist (SPEC §7.2)
    return task


async def _claimant(*, store: TaskActionStore, actor: User, for_user: str | None) -> User:
    """Who a claim is for: the caller, or (managers only) someone they name."""
    if not for_user or user_name_key(for_user) == user_name_key(actor.name):
        return actor
    require_role(actor, Role.MANAGER)
    target = await store.accounts.get_user(for_user)
    if target is None or target.disabled:
        raise BadRequest(f"no active user {for_user}")
    return target


async def claim(
    *,
    store: TaskActionStore,
    settings: Settings,
    actor: User,
    task_id: str,
    for_user: str | None = None,
) -> Task:
    user = await _claimant(store=store, actor=actor, for_user=for_user)
    offline = await offline_origins(store)
    task = await store.tasks.claim(
        task_id=task_id, rules=claim_rules(user, settings, offline, actor=actor), now=time.time()
    )
    CLAIMS.labels("claim").inc()
    return task


async def claim_next(
    *,
    store: TaskActionStore,
    settings: Settings,
    actor: User,
    for_user: str | None = None,
    task_type: str | None = None,
    project_id: str | None = None,
) -> Task:
    user = await _claimant(store=store, actor=actor, for_user=for_user)
    offline = await offline_origins(store)
    task = await store.tasks.claim_next(
        rules=claim_rules(user, settings, offline, actor=actor),
        task_type=task_type or None,
        project_id=project_id or None,
        now=time.time(),
    )
    CLAIMS.labels("claim").inc()
    return task


async def release(*, store: TaskActionStore, actor: User, task_id: str) -> Task:
    holder = None
    if actor.role < Role.MANAGER:
        await get_task(store=store, user=actor, task_id=task_id)  # hidden answers as missing
        holder = actor.name
    task = await store.tasks.release(
        task_id=task_id, holder=holder, actor=actor.name, action="release", now=time.time()
    )
    CLAIMS.labels("release").inc()
    return task
