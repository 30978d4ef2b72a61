"""Readiness of the store for /readyz: it answers a read and commits a real (tiny) write."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Protocol

from taskdash.domain.errors import TaskDashError
from taskdash.domain.ports import LeaseRepo

# A probe writes at most once per interval; /readyz answers in between from the last probe.
PROBE_INTERVAL_S = 3.0
# One shared lease row that every probe overwrites (a zero TTL leaves it expired for the next).
PROBE_LEASE = "readiness-probe"


class ProbedStore(Protocol):
    """What the readiness probe uses of the store (a whole Store is one)."""

    @property
    def coordination(self) -> LeaseRepo: ...

    async def ping(self) -> None: ...


class StoreReadiness:
    """'ok', or 'error: …' while the store cannot read or cannot write."""

    def __init__(self, *, store: ProbedStore) -> None:
        self._store = store
        self._holder = uuid.uuid4().hex[:12]
        self._lock = asyncio.Lock()
        self._checked_at = float("-inf")
        self._answer = ""

    async def check(self) -> str:
        async with self._lock:
            if time.monotonic() - self._checked_at >= PROBE_INTERVAL_S:
                self._answer = await self._probe()
                self._checked_at = time.monotonic()
            return self._answer

    async def _probe(self) -> str:
        try:
            await self._store.ping()
        except TaskDashError as exc:
            return f"error: cannot read ({exc.detail or exc.errmsg})"
        try:
            await self._store.coordination.acquire_lease(
                name=PROBE_LEASE, holder=self._holder, now=time.time(), ttl_s=0.0
            )
        except TaskDashError as exc:
            return f"error: cannot write ({exc.detail or exc.errmsg})"
        return "ok"
