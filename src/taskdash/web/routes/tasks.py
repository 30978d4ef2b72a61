"""Tasks (/api/v1/tasks): list with filters and cursors, detail, claim, release, assign."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from taskdash.actions import assignment, list_totals, tasks
from taskdash.domain.errors import BadRequest
from taskdash.domain.models import TaskQuery, User
from taskdash.domain.ports import AssignChange, Store
from taskdash.domain.task_sorts import SORTS, sort_key
from taskdash.settings import Settings
from taskdash.web import task_json
from taskdash.web.deps import ManagerUser, SettingsDep, StoreDep, UserDep
from taskdash.web.list_cursors import decode_cursor, encode_cursor
from taskdash.web.schemas import (
    AssignIn,
    AssignOut,
    AssignPlanOut,
    ClaimNextIn,
    DistinctOut,
    EventOut,
    TaskDetail,
    TaskFilter,
    TaskListIn,
    TaskOut,
    TaskPage,
    error_responses,
)

router = APIRouter(
    prefix="/api/v1/tasks", tags=["tasks"], responses=error_responses(401, 403, 404, 409, 503)
)
HISTORY_LIMIT = 200


def json_response(content: object) -> Response:
    """A 200 JSON answer, its bytes written as FastAPI writes the declared model's."""
    return Response(task_json.json_bytes(content), media_type="application/json")


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


def list_query(params: TaskListIn, *, limit: int, cursor: str | None) -> TaskQuery:
    """The store query of a list's parameters (its scope aside: list_page decides that)."""
    return replace(
        filter_query(params),
        newest_first=params.order == "newest",
        limit=limit,
        sort=SORTS[params.sort],
        after=decode_cursor(cursor, sort=params.sort) if cursor else None,
    )


@router.get("", response_model=TaskPage, response_model_exclude_unset=True)
async def list_tasks(
    user: UserDep,
    store: StoreDep,
    params: Annotated[TaskListIn, Query()],
    limit: Annotated[int, Query(ge=1, le=tasks.MAX_PAGE)] = 50,
    cursor: str | None = None,
    count: Annotated[bool, Query(description="add `total`: the tasks over all pages")] = False,
) -> Response:
    """One page of the tasks the caller may see; `unclaimed=true` lists what they can claim."""
    return await task_page(
        store=store, user=user, params=params, limit=limit, cursor=cursor, count=count
    )


async def task_page(
    *, store: Store, user: User, params: TaskListIn, limit: int, cursor: str | None, count: bool
) -> Response:
    """The answer of GET /api/v1/tasks (also given by web/fast_routes.py)."""
    query = list_query(params, limit=limit, cursor=cursor)
    unclaimed, online = params.unclaimed, params.online
    listing = await tasks.list_page(
        store=store, user=user, query=query, unclaimed=unclaimed, online=online
    )
    page = listing.tasks
    last = sort_key(page[-1], query.sort) if len(page) == limit else None
    next_cursor = encode_cursor(last, sort=params.sort) if last else None
    answer = task_json.task_page(page, offline=listing.offline, next_cursor=next_cursor)
    if count:
        answer["total"] = await list_totals.count_visible(
            store=store, user=user, query=query, unclaimed=unclaimed, online=online
        )
    return json_response(answer)


@router.get("/distinct")
async def distinct(
    field: Literal["project", "type", "group"], user: UserDep, store: StoreDep
) -> DistinctOut:
    """The values of `field` among the tasks the caller may see (filter suggestions)."""
    values = await list_totals.distinct_values(store=store, user=user, field=field)
    return DistinctOut(values=values)


@router.post("/claim-next", response_model=TaskOut)
async def claim_next(
    user: UserDep, store: StoreDep, settings: SettingsDep, body: ClaimNextIn | None = None
) -> Response:
    """Claim the oldest task the caller can claim (optionally of one type or project)."""
    return await claimed_next(store=store, settings=settings, user=user, body=body)


async def claimed_next(
    *, store: Store, settings: Settings, user: User, body: ClaimNextIn | None
) -> Response:
    """The answer of POST /api/v1/tasks/claim-next (also given by web/fast_routes.py)."""
    body = body or ClaimNextIn()
    task = await tasks.claim_next(
        store=store, settings=settings, actor=user, task_type=body.type, project_id=body.project
    )
    return json_response(task_json.api_task(task))


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


@router.post("/{task_id}/claim", response_model=TaskOut)
async def claim(task_id: str, user: UserDep, store: StoreDep, settings: SettingsDep) -> Response:
    return await claimed(store=store, settings=settings, user=user, task_id=task_id)


async def claimed(*, store: Store, settings: Settings, user: User, task_id: str) -> Response:
    """The answer of POST /api/v1/tasks/{task_id}/claim (also given by web/fast_routes.py)."""
    task = await tasks.claim(store=store, settings=settings, actor=user, task_id=task_id)
    return json_response(task_json.api_task(task))


@router.post("/{task_id}/release")
async def release(task_id: str, user: UserDep, store: StoreDep) -> TaskOut:
    return TaskOut.of(await tasks.release(store=store, actor=user, task_id=task_id))
