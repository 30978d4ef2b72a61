"""The per-user claim limit on MongoDB, kept without transactions.

Counting a user's unfinished tasks and claiming one are writes and reads of different
documents, so N claims by one user at once could all count the same 4 and all win. Two parts:
- a per-user lease (`claim_leases`, taken by one conditional write) lines up one user's claims
  across instances, so each counts what those before it claimed: exactly the limit wins;
- a lease is no proof (a holder stalled past its TTL overlaps the next one), so every claim
  counts again after its own conditional write and gives the task back if the user now holds
  more than the limit: of two overlapping claims, the one written last sees both.
The count is always read from the tasks (index `tasks_user_status`), never kept in a second
place, so there is nothing that could drift from them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from pymongo.errors import DuplicateKeyError, PyMongoError

from taskdash.domain import holding
from taskdash.domain.errors import TooManyRequests
from taskdash.domain.ports import ClaimRules
from taskdash.store.mongo.client import Database, Document

logger = logging.getLogger(__name__)

CLAIM_LEASE_TTL_S = 5.0
CLAIM_LEASE_WAIT_S = 10.0
FIRST_RETRY_S = 0.002
LONGEST_RETRY_S = 0.05


class ClaimLimit:
    """Counts unfinished tasks and lines up one user's claims."""

    def __init__(self, db: Database) -> None:
        self._tasks = db.tasks
        self._leases = db.claim_leases

    async def unfinished(self, user: str, finished: Sequence[str]) -> int:
        if not user:
            return 0
        found: Document = {"user": user}
        if finished:
            found["status"] = {"$nin": list(finished)}
        return await self._tasks.count_documents(found)

    async def check(self, rules: ClaimRules) -> None:
        """Refuse a claim by a user who already holds the limit."""
        if not rules.max_claims:
            return  # no limit: nothing to count
        unfinished = await self.unfinished(rules.user, rules.finished_statuses)
        refusal = holding.claim_limit_error(rules, unfinished=unfinished)
        if refusal:
            raise refusal

    async def exceeded(self, rules: ClaimRules) -> bool:
        """Whether the user holds more than the limit (after a claim)."""
        if not rules.max_claims:
            return False
        unfinished = await self.unfinished(rules.user, rules.finished_statuses)
        return holding.over_claim_limit(rules, unfinished=unfinished)

    @asynccontextmanager
    async def lined_up(self, rules: ClaimRules) -> AsyncIterator[None]:
        """Hold the user's claim lease for the block (nothing to line up without a limit)."""
        if not rules.max_claims:
            yield
            return
        holder = uuid.uuid4().hex
        await self._acquire(rules.user, holder)
        try:
            yield
        finally:
            await self._release(rules.user, holder)

    async def _acquire(self, user: str, holder: str) -> None:
        deadline = time.monotonic() + CLAIM_LEASE_WAIT_S
        delay_s = FIRST_RETRY_S
        while True:
            now = time.time()
            try:
                # Free or expired: taken. Held: the upsert's insert meets the held document.
                await self._leases.update_one(
                    {"_id": user, "until": {"$lt": now}},
                    {"$set": {"holder": holder, "until": now + CLAIM_LEASE_TTL_S}},
                    upsert=True,
                )
                return
            except DuplicateKeyError:
                pass
            if time.monotonic() >= deadline:
                raise TooManyRequests(f"other claims by {user} are still being made; try again")
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, LONGEST_RETRY_S)

    async def _release(self, user: str, holder: str) -> None:
        try:
            await self._leases.update_one({"_id": user, "holder": holder}, {"$set": {"until": 0.0}})
        except PyMongoError as exc:
            # The claim itself is decided; the lease ends by itself after its TTL.
            logger.warning("claim lease of %s not released: %s", user, exc)
