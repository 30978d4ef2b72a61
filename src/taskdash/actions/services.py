"""Task services for people: who is registered, their health and their tasks by status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taskdash.domain.holding import service_task_counts
from taskdash.domain.models import Service
from taskdash.domain.ports import ServiceReads, TaskReads


class ServiceListingStore(Protocol):
    """What listing services uses of the store (a whole Store is one)."""

    @property
    def tasks(self) -> TaskReads: ...

    @property
    def services(self) -> ServiceReads: ...


@dataclass(frozen=True, slots=True)
class ServiceListing:
    services: list[Service]
    counts_by_origin: dict[str, dict[str, int]]  # origin -> status -> tasks
    unknown_heartbeats: dict[str, int]  # heartbeats from URLs no service registered

    def task_counts(self, origin: str) -> dict[str, int]:
        """One origin's tasks: total, unclaimed and claimed."""
        return service_task_counts(self.counts_by_origin.get(origin, {}))


async def list_services(*, store: ServiceListingStore) -> ServiceListing:
    counts = await store.tasks.count_by_origin_status()
    return ServiceListing(
        services=await store.services.all(),
        counts_by_origin=counts,
        unknown_heartbeats=await store.services.unknown_heartbeats(),
    )
