"""The overview's services timeline and stuck-work counts (/api/v1/stats, tag "stats")."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from taskdash.actions import stats_services
from taskdash.web.deps import ManagerUser, StoreDep, UserDep
from taskdash.web.schemas import error_responses
from taskdash.web.stats_params import DAY_S, stats_period

router = APIRouter(
    prefix="/api/v1/stats", tags=["stats"], responses=error_responses(400, 401, 403, 503)
)

MAX_CLAIMED_HOURS = 8760


class SpanOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: float = Field(alias="from", description="start (Unix seconds)")
    to: float = Field(description="end (Unix seconds)")
    online: bool


class ServiceTimelineOut(BaseModel):
    name: str = Field(description="the registered name (its URL when it registered none)")
    online: bool
    last_heartbeat_at: float | None = Field(description="publish time of the last heartbeat")
    heartbeat_age_s: float | None
    spans: list[SpanOut] = Field(
        description="online/offline spans covering [since, until] (from registration if later)"
    )
    metadata_errors: int = Field(description="failed metadata pulls since registration")
    last_metadata_error: str | None
    last_metadata_error_at: float | None

    @classmethod
    def of(cls, timeline: stats_services.ServiceTimeline) -> ServiceTimelineOut:
        health = timeline.health
        return cls(
            name=health.service.name or health.service.url,
            online=health.service.online,
            last_heartbeat_at=timeline.last_heartbeat_at,
            heartbeat_age_s=timeline.heartbeat_age_s,
            spans=[SpanOut(from_=s.start, to=s.end, online=s.online) for s in timeline.spans],
            metadata_errors=health.metadata_errors,
            last_metadata_error=health.last_metadata_error or None,
            last_metadata_error_at=health.last_metadata_error_at,
        )


class ServicesStatsOut(BaseModel):
    since: float
    until: float
    services: list[ServiceTimelineOut]


class StuckOut(BaseModel):
    claimed_hours: int
    claimed_longer: int = Field(description="tasks 已领取 since before now - claimed_hours")
    offline_service_tasks: int = Field(description="tasks of services that are offline")
    dead_letters_24h: int = Field(description="dead letters of the last 24 h")


@router.get("/services")
async def services_timeline(
    user: UserDep,
    store: StoreDep,
    since: Annotated[
        float | None, Query(description="Unix seconds (default: until - 24 h)")
    ] = None,
    until: Annotated[float | None, Query(description="Unix seconds (default: now)")] = None,
) -> ServicesStatsOut:
    """Each service's online/offline spans over the period, heartbeat age, metadata errors
    (everyone signed in, as the services page)."""
    now = time.time()
    period = stats_period(since=since, until=until, default_s=DAY_S, now=now)
    timelines = await stats_services.service_timelines(
        store=store, since=period.since, until=period.until, now=now
    )
    return ServicesStatsOut(
        since=period.since,
        until=period.until,
        services=[
            ServiceTimelineOut.of(t)
            for t in sorted(
                timelines,
                key=lambda t: (t.health.service.name or t.health.service.url, t.health.service.url),
            )
        ],
    )


@router.get("/stuck")
async def stuck(
    user: ManagerUser,
    store: StoreDep,
    claimed_hours: Annotated[int, Query(ge=1, le=MAX_CLAIMED_HOURS)] = 24,
) -> StuckOut:
    """Tasks held longer than `claimed_hours`, tasks of offline services, dead letters of the
    last 24 h (managers); each links to its list (`GET /api/v1/tasks?claimed_before=` ...)."""
    work = await stats_services.stuck_work(
        store=store, claimed_hours=claimed_hours, now=time.time()
    )
    return StuckOut(
        claimed_hours=work.claimed_hours,
        claimed_longer=work.claimed_longer,
        offline_service_tasks=work.offline_service_tasks,
        dead_letters_24h=work.dead_letters_24h,
    )
