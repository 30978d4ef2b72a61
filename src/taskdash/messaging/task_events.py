"""Task events to NSQ: every change in task history, published to `events_topic` as JSON.

The history table is the retry buffer (an outbox): one instance at a time (a lease) publishes
what follows a shared cursor and moves the cursor only after nsqd answered OK. An nsqd outage
or a restart therefore loses nothing; a crash between publish and cursor move can repeat a
batch, which consumers recognise by `seq` (delivery is at-least-once, as NSQ's own).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Protocol

from taskdash.domain.ports import CoordinationRepo, TaskHistory
from taskdash.domain.task_event_json import event_json
from taskdash.log_limits import RepeatedLog
from taskdash.loops import cancel_all, run_every
from taskdash.messaging.publisher import NsqPublisher, PublishError

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

LEASE = "task-events-publisher"
CURSOR = "task-events"
LEASE_TTL_S = 10.0
POLL_INTERVAL_S = 0.25
BATCH = 500


class EventFeedStore(Protocol):
    """What publishing task history uses of the store (a whole Store is one)."""

    @property
    def tasks(self) -> TaskHistory: ...

    @property
    def coordination(self) -> CoordinationRepo: ...


class TaskEventPublisher:
    """Publishes task history to NSQ from whichever instance holds the lease."""

    def __init__(self, *, store: EventFeedStore, publisher: NsqPublisher, topic: str) -> None:
        self._store = store
        self._publisher = publisher
        self._topic = topic
        self._holder = f"{uuid.uuid4().hex[:12]}"
        self._task: asyncio.Task[None] | None = None
        self._waiting = False  # for nsqd

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="task-event-publisher")

    async def publish_pending(self) -> int:
        """One round: publish what follows the cursor, if we hold the lease. Returns how many."""
        now = time.time()
        if not await self._store.coordination.acquire_lease(
            name=LEASE, holder=self._holder, now=now, ttl_s=LEASE_TTL_S
        ):
            return 0
        cursor = await self._store.coordination.get_cursor(CURSOR)
        events = await self._store.tasks.events_after(seq=cursor, limit=BATCH)
        if not events:
            return 0
        await self._publisher.mpub(self._topic, [event_json(e) for e in events])
        await self._store.coordination.advance_cursor(
            name=CURSOR, expected=cursor, to=events[-1].seq
        )
        return len(events)

    async def _run(self) -> None:
        await run_every(
            name="task event publishing",
            interval_s=POLL_INTERVAL_S,
            step=self._publish_round,
            log=repeated,
        )

    async def _publish_round(self) -> bool:
        """One round; True when a full batch went out (more may be waiting)."""
        try:
            published = await self.publish_pending()
        except PublishError as exc:
            if not self._waiting:
                logger.warning("task events wait for nsqd: %s", exc)
            self._waiting = True  # said once when it starts and once when it ends
            await self._publisher.refresh()
            return False
        if self._waiting and published:
            logger.info("task events published again")
            self._waiting = False
        return published >= BATCH

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_all([self._task])
        try:
            await self._store.coordination.release_lease(name=LEASE, holder=self._holder)
        except Exception as exc:
            logger.warning("could not release the events lease: %s", exc)
