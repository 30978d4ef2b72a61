"""The overview's services and stuck-work panels: health over a period, what is stuck now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taskdash.actions.tasks import offline_origins
from taskdash.domain.ports import (
    DeadLetterCounts,
    ServiceHealth,
    ServiceHealthHistory,
    ServiceReads,
    StuckTaskCounts,
)
from taskdash.domain.service_health import HealthSpan, health_spans, heartbeat_at

HOUR_S = 3600.0
DEAD_LETTER_WINDOW_S = 24 * HOUR_S


class ServiceHealthStore(Protocol):
    """What the services panel uses of the store (a whole Store is one)."""

    @property
    def services(self) -> ServiceHealthHistory: ...


class StuckWorkStore(Protocol):
    """What the stuck-work counts use of the store (a whole Store is one)."""

    @property
    def tasks(self) -> StuckTaskCounts: ...

    @property
    def services(self) -> ServiceReads: ...

    @property
    def dead_letters(self) -> DeadLetterCounts: ...


@dataclass(frozen=True, slots=True)
class ServiceTimeline:
    health: ServiceHealth
    spans: list[HealthSpan]
    last_heartbeat_at: float | None
    heartbeat_age_s: float | None


@dataclass(frozen=True, slots=True)
class StuckWork:
    claimed_hours: int
    claimed_longer: int  # held (已领取) since before now - claimed_hours
    offline_service_tasks: int  # tasks of services that are offline
    dead_letters_24h: int


async def service_timelines(
    *, store: ServiceHealthStore, since: float, until: float, now: float
) -> list[ServiceTimeline]:
    """Each service's online/offline spans over [since, until] and its heartbeat's age now."""
    timelines = []
    for health in await store.services.health_history(since=since, until=until):
        beat_at = heartbeat_at(health)
        timelines.append(
            ServiceTimeline(
                health=health,
                spans=health_spans(health, since=since, until=until),
                last_heartbeat_at=beat_at,
                heartbeat_age_s=None if beat_at is None else max(0.0, now - beat_at),
            )
        )
    return timelines


async def stuck_work(*, store: StuckWorkStore, claimed_hours: int, now: float) -> StuckWork:
    offline = await offline_origins(store)
    return StuckWork(
        claimed_hours=claimed_hours,
        claimed_longer=await store.tasks.count_claimed_before(before=now - claimed_hours * HOUR_S),
        offline_service_tasks=await store.tasks.count_of_origins(origins=offline) if offline else 0,
        dead_letters_24h=await store.dead_letters.count_since(since=now - DEAD_LETTER_WINDOW_S),
    )
