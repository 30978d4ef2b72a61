"""Tasks (/api/v1/tasks): list with filters and cursors, detail, claim, release, assign."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from taskdash.actions import assignment, tasks
from taskdash.domain.errors import BadRequest
from taskdash.domain.models import TaskQuery, User
from taskdash.domain.ports import AssignChange
from taskdash.web.deps import ManagerUser, SettingsDep, StoreDep, UserDep
from taskdash.web.schemas import (
    AssignIn,
    AssignOut,
    AssignPlanOut,
    ClaimNextIn,
    EventOut,
    TaskDetail,
    TaskFilter,
    TaskOut,
    TaskPage,
    decode_cursor,
    encode_cursor,
    error_responses,
)

router = APIRouter(
    prefix="/api/v1/tasks", tags=["tasks"], responses=error_responses(401, 403, 404, 409, 503)
)
HISTORY_LIMIT = 200


def filter_query(f: TaskFilter, *, blank_is_absent: bool = False) -> TaskQuery:
    """The list query of a filter; with `blank_is_absent`, an empty field filters nothing."""

    def value(given: str | None) -> str | None:
        return (given or None) if blank_is_absent else given

    return TaskQuery(
        status=value(f.status),
        user=value(f.user),
        checker=value(f.checker),
        group=value(f.group),
        type=value(f.type),
        project_id=value(f.project),
        claimed_before=f.claimed_before,
    )


@router.get("")
async def list_tasks(
    user: UserDep,
    store: StoreDep,
    filters: Annotated[TaskFilter, Query()],
    unclaimed: bool = False,
    online: bool | None = None,
    order: Literal["oldest", "newest"] = "oldest",
    limit: Annotated[int, Query(ge=1, le=tasks.MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> TaskPage:
    """One page of the tasks the caller may see; `unclaimed=true` lists what they can claim."""
    query = replace(
        filter_query(filters),
        newest_first=order == "newest",
        limit=limit,
        after=decode_cursor(cursor) if cursor else None,
    )
    listing = await tasks.list_page(
        store=store, user=user, query=query, unclaimed=unclaimed, online=online
    )
    page = listing.tasks
    next_cursor = encode_cursor(page[-1].time, page[-1].id) if len(page) == limit else None
    return TaskPage(
        items=[TaskOut.of(t, offline=listing.offline) for t in page], next_cursor=next_cursor
    )


@router.post("/claim-next")
async def claim_next(
    user: UserDep, store: StoreDep, settings: SettingsDep, body: ClaimNextIn | None = None
) -> TaskOut:
    """Claim the oldest task the caller can claim (optionally of one type or project)."""
    body = body or ClaimNextIn()
    task = await tasks.claim_next(
        store=store, settings=settings, actor=user, task_type=body.type, project_id=body.project
    )
    return TaskOut.of(task)


async def _assign_plan(
    body: AssignIn, user: User, store: StoreDep, settings: SettingsDep
) -> assignment.AssignPlan:
    """The plan of an assign body: its tasks, and who gets them (400 when the body is unclear)."""
    targets = [body.ids is not None, body.filter is not None and not body.all, body.all]
    if sum(targets) != 1:
        raise BadRequest("give ids, a filter, or all: true")
    if body.strategy and body.user:
        raise BadRequest("give a user or a strategy, not both")
    if body.strategy and not body.group:
        raise BadRequest("give a group for a strategy")
    change = AssignChange(user=body.user, checker=body.checker, group=body.group)
    if change == AssignChange():
        raise BadRequest("give user, checker, group or a strategy")
    if body.ids is not None:
        ids = body.ids
    else:
        query = filter_query(body.filter or TaskFilter(), blank_is_absent=True)
        if query == TaskQuery() and not body.all:
            raise BadRequest("the filter names nothing; to assign every task, set all: true")
        ids = await assignment.ids_matching(store=store, query=query)
    return await assignment.plan_assign(
        store=store,
        settings=settings,
        actor=user,
        task_ids=ids,
        change=change,
        strategy=body.strategy,
    )


@router.post("/assign")
async def assign(
    body: AssignIn, user: ManagerUser, store: StoreDep, settings: SettingsDep
) -> AssignOut:
    """Set user/checker/group on listed tasks, on every task matching a filter, or on every task
    (`all: true`) (managers). Beyond a user's claim limit only with `override_limit: true`."""
    plan = await _assign_plan(body, user, store, settings)
    outcome = await assignment.write_assignment(
        store=store, actor=user, plan=plan, override_limit=body.override_limit
    )
    return AssignOut(
        assigned=len(outcome.assigned),
        failed={
            task_id: f"{e.errid} {e.detail or e.errmsg}" for task_id, e in outcome.failed.items()
        },
    )


@router.post("/assign/plan")
async def assign_plan(
    body: AssignIn, user: ManagerUser, store: StoreDep, settings: SettingsDep
) -> AssignPlanOut:
    """A dry run of POST /assign with the same body: who would get how many tasks, computed as
    assign computes it, without writing (managers). `override_limit` is ignored."""
    return AssignPlanOut.of(await _assign_plan(body, user, store, settings))


@router.get("/{task_id}")
async def task_detail(task_id: str, user: UserDep, store: StoreDep) -> TaskDetail:
    """One task with its history, newest first."""
    found = await tasks.task_with_history(
        store=store, user=user, task_id=task_id, limit=HISTORY_LIMIT
    )
    return TaskDetail(
        task=TaskOut.of(found.task, offline=found.offline),
        history=[EventOut.of(e) for e in found.history],
    )


@router.post("/{task_id}/claim")
async def claim(task_id: str, user: UserDep, store: StoreDep, settings: SettingsDep) -> TaskOut:
    return TaskOut.of(
        await tasks.claim(store=store, settings=settings, actor=user, task_id=task_id)
    )


@router.post("/{task_id}/release")
async def release(task_id: str, user: UserDep, store: StoreDep) -> TaskOut:
    return TaskOut.of(await tasks.release(store=store, actor=user, task_id=task_id))
