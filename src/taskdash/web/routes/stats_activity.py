"""Activity statistics (/api/v1/stats): throughput, people, cycle time."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from taskdash.actions import stats_activity
from taskdash.actions.stats_activity import BUCKET_S, Bucket, StatsFilter
from taskdash.domain.activity import DAY_S, HOUR_S
from taskdash.web.activity_schemas import CycleTimeOut, PeopleOut, ThroughputOut
from taskdash.web.deps import SettingsDep, UserDep
from taskdash.web.schemas import error_responses
from taskdash.web.stats_params import StatsQuery, StatsQueryDep

router = APIRouter(prefix="/api/v1/stats", tags=["stats"], responses=error_responses(400, 401, 503))
THROUGHPUT_DEFAULT_S = {"hour": 48 * HOUR_S, "day": 30 * DAY_S}
PEOPLE_DEFAULT_S = 7 * DAY_S
CYCLE_TIME_DEFAULT_S = 30 * DAY_S


async def activity_store(request: Request) -> stats_activity.ActivityStore:
    """The store, as the part holding the activity rollups (beside the Store port)."""
    store: stats_activity.ActivityStore = request.app.state.store
    return store


StoreDep = Annotated[stats_activity.ActivityStore, Depends(activity_store)]


def _filter(query: StatsQuery, *, default_span_s: int, size_s: int = HOUR_S) -> StatsFilter:
    since, until = stats_activity.window(
        since=query.since,
        until=query.until,
        default_span_s=default_span_s,
        size_s=size_s,
        now=time.time(),
    )
    return StatsFilter(since=since, until=until, project=query.project, type=query.type)


@router.get("/throughput")
async def throughput(
    user: UserDep,
    store: StoreDep,
    settings: SettingsDep,
    query: StatsQueryDep,
    bucket: Annotated[
        Bucket, Query(description="UTC hours (default: last 48 h) or days (30 d)")
    ] = "hour",
) -> ThroughputOut:
    """Tasks created, claimed and finished per bucket, and the unclaimed queue at each end."""
    result = await stats_activity.throughput(
        store=store,
        viewer=user,
        stats=_filter(query, default_span_s=THROUGHPUT_DEFAULT_S[bucket], size_s=BUCKET_S[bucket]),
        bucket=bucket,
        finished=settings.finished_statuses,
    )
    return ThroughputOut.of(result)


@router.get("/people")
async def people(
    user: UserDep, store: StoreDep, settings: SettingsDep, query: StatsQueryDep
) -> PeopleOut:
    """Per person and group: holding, finished, median claim→finish, releases, expiries (7 d)."""
    result = await stats_activity.people(
        store=store,
        viewer=user,
        stats=_filter(query, default_span_s=PEOPLE_DEFAULT_S),
        finished=settings.finished_statuses,
    )
    return PeopleOut.of(result)


@router.get("/cycle-time")
async def cycle_time(
    user: UserDep, store: StoreDep, settings: SettingsDep, query: StatsQueryDep
) -> CycleTimeOut:
    """Claim → finish per task type: count, median, p90, a fixed histogram (default: 30 d)."""
    result = await stats_activity.cycle_time(
        store=store,
        viewer=user,
        stats=_filter(query, default_span_s=CYCLE_TIME_DEFAULT_S),
        finished=settings.finished_statuses,
    )
    return CycleTimeOut.of(result)
