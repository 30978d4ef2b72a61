"""Task services and their health (/api/v1/services)."""

from __future__ import annotations

from fastapi import APIRouter

from taskdash.actions import services
from taskdash.web.deps import StoreDep, UserDep
from taskdash.web.schemas import ServiceOut, ServicesOut, error_responses

router = APIRouter(
    prefix="/api/v1/services", tags=["services"], responses=error_responses(401, 403, 503)
)


@router.get("")
async def list_services(user: UserDep, store: StoreDep) -> ServicesOut:
    """Every registered service: online/offline, last heartbeat, clock skew, task counts."""
    listing = await services.list_services(store=store)
    return ServicesOut(
        services=[ServiceOut.of(s, listing.task_counts(s.origin)) for s in listing.services],
        unknown_heartbeats=listing.unknown_heartbeats,
    )
