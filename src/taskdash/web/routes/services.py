"""Task services and their health (/api/v1/services)."""

from __future__ import annotations

from fastapi import APIRouter

from taskdash.domain.holding import service_task_counts
from taskdash.web.deps import StoreDep, UserDep
from taskdash.web.schemas import ServiceOut, ServicesOut, error_responses

router = APIRouter(
    prefix="/api/v1/services", tags=["services"], responses=error_responses(401, 403, 503)
)


@router.get("")
async def list_services(user: UserDep, store: StoreDep) -> ServicesOut:
    """Every registered service: online/offline, last heartbeat, clock skew, task counts."""
    counts = await store.tasks.count_by_origin_status()
    return ServicesOut(
        services=[
            ServiceOut.of(s, service_task_counts(counts.get(s.origin, {})))
            for s in await store.services.all()
        ],
        unknown_heartbeats=await store.services.unknown_heartbeats(),
    )
