"""Overview statistics (/api/v1/stats): per project and type, by role (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from taskdash.actions import stats
from taskdash.web.deps import StoreDep, UserDep
from taskdash.web.schemas import error_responses
from taskdash.web.stats_params import StatsFilterDep

router = APIRouter(prefix="/api/v1/stats", tags=["stats"], responses=error_responses(400, 401, 503))


class ProjectStatsOut(BaseModel):
    project: str = Field(description="ProjectID")
    type: str = Field(description="TaskType")
    total: int
    by_status: dict[str, int] = Field(description="status → number of tasks")
    unclaimed: int = Field(description="unclaimed (待领取, no user) tasks the caller could claim")
    unclaimed_oldest_at: float | None = Field(
        description="CreateTime (Unix seconds) of the oldest of those; null when none"
    )


@router.get("/projects")
async def project_stats(
    user: UserDep, store: StoreDep, filters: StatsFilterDep
) -> list[ProjectStatsOut]:
    """Tasks per project and type by status, with the unclaimed queue; the current state, from
    counts kept in the store. Annotators and checkers get only what their lists show them."""
    found = await stats.projects(
        store=store, user=user, project=filters.project, task_type=filters.type
    )
    return [
        ProjectStatsOut(
            project=s.project,
            type=s.type,
            total=s.total,
            by_status=s.by_status,
            unclaimed=s.unclaimed,
            unclaimed_oldest_at=s.unclaimed_oldest_at,
        )
        for s in found
    ]
