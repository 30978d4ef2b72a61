"""Background sweeps: service health, claim-lease expiry, old sessions and login counters.

Each sweep's writes are conditional, so any number of instances may run them at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from taskdash.domain.ports import LoginAttemptRepo, ServiceRepo, SessionRepo, TaskClaims
from taskdash.log_limits import RepeatedLog
from taskdash.loops import cancel_all, run_every
from taskdash.metrics import CLAIMS, SERVICES
from taskdash.settings import Settings

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

EXPIRY_BATCH = 500
PURGE_INTERVAL_S = 600.0
SERVICE_TRANSITIONS_KEPT_S = 30 * 24 * 3600.0


class SweptAccounts(SessionRepo, LoginAttemptRepo, Protocol):
    """The parts of the accounts the purges use: sessions and login attempts."""


class SweepStore(Protocol):
    """What the sweeps use of the store (a whole Store is one)."""

    @property
    def services(self) -> ServiceRepo: ...

    @property
    def tasks(self) -> TaskClaims: ...

    @property
    def accounts(self) -> SweptAccounts: ...


async def sweep_health_once(*, store: SweepStore, settings: Settings) -> int:
    changed = await store.services.sweep_health(
        now=time.time(), timeout_s=settings.heartbeat_timeout_s
    )
    for service in changed:
        logger.warning("service %s went offline (no heartbeat)", service.url)
    return len(changed)


class HealthWatch:
    """Runs the health sweep, then counts services by health (gauges) and says who came back."""

    def __init__(self) -> None:
        self._offline: set[str] | None = None

    async def sweep(self, *, store: SweepStore, settings: Settings) -> int:
        changed = await sweep_health_once(store=store, settings=settings)
        services = await store.services.all()
        offline = {service.url for service in services if not service.online}
        SERVICES.labels("online").set(len(services) - len(offline))
        SERVICES.labels("offline").set(len(offline))
        came_back = (self._offline or set()) - offline
        for url in sorted(came_back & {service.url for service in services}):
            logger.info("service %s is online again", url)
        self._offline = offline
        return changed


async def expire_claims_once(*, store: SweepStore, settings: Settings) -> int:
    """Release every claim older than claim_ttl_s; returns how many."""
    if settings.claim_ttl_s <= 0:
        return 0
    total = 0
    while True:
        now = time.time()
        expired = await store.tasks.expire_claims(
            claimed_before=now - settings.claim_ttl_s, now=now, limit=EXPIRY_BATCH
        )
        for task in expired:
            logger.info("claim of %s by its user expired", task.id)
        CLAIMS.labels("expire").inc(len(expired))
        total += len(expired)
        if len(expired) < EXPIRY_BATCH:
            return total


async def purge_sessions_once(*, store: SweepStore, settings: Settings) -> int:
    return await store.accounts.purge_sessions(now=time.time())


async def purge_login_failures_once(*, store: SweepStore, settings: Settings) -> int:
    """Delete login-attempt counters whose window has passed (keeps the table bounded)."""
    before = time.time() - settings.login_failure_window_s
    return await store.accounts.purge_login_failures(before=before)


async def prune_service_transitions_once(*, store: SweepStore, settings: Settings) -> int:
    """Delete services' online/offline transitions older than 30 days (each keeps its latest)."""
    before = time.time() - SERVICE_TRANSITIONS_KEPT_S
    return await store.services.prune_transitions(before=before)


class Sweeper:
    """Owns the sweep tasks; started and stopped by the app's lifespan."""

    def __init__(self, *, store: SweepStore, settings: Settings) -> None:
        self._store, self._settings = store, settings
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        s, store = self._settings, self._store
        loops = {
            "health sweep": (s.health_sweep_interval_s, HealthWatch().sweep),
            "claim expiry sweep": (s.claim_sweep_interval_s, expire_claims_once),
            "session purge": (PURGE_INTERVAL_S, purge_sessions_once),
            "login failure purge": (PURGE_INTERVAL_S, purge_login_failures_once),
            "service transition purge": (PURGE_INTERVAL_S, prune_service_transitions_once),
        }
        for name, (interval, fn) in loops.items():
            loop = run_every(name=name, interval_s=interval, step=_bind(fn, store, s), log=repeated)
            self._tasks.append(asyncio.create_task(loop, name=name))

    async def aclose(self) -> None:
        await cancel_all(self._tasks)
        self._tasks.clear()


def _bind(
    fn: Callable[..., Awaitable[int]], store: SweepStore, settings: Settings
) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        await fn(store=store, settings=settings)

    return step
