"""The live feed's source: task changes and service health changes as they happen.

Task changes come from the task events topic through an ephemeral NSQ channel of this instance
when NSQ is configured, else from the shared store's history (so every instance sees every
change either way), and are handed on in batches. Service health changes come from a light
poll of the service list. Who hears what is the web layer's business (web/live.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from taskdash.domain.models import Service, TaskEvent
from taskdash.domain.ports import Store
from taskdash.domain.task_event_json import event_from_json
from taskdash.log_limits import RepeatedLog
from taskdash.loops import cancel_all, run_every
from taskdash.messaging.nsq_connection import nsq_configured, reader_options
from taskdash.messaging.nsq_logging import closing_quietly
from taskdash.settings import Settings

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

STORE_POLL_S = 0.5
SERVICE_POLL_S = 2.0
BATCH = 500
NSQ_BACKLOG = 10_000
NSQ_MAX_IN_FLIGHT = 200

OnTaskEvents = Callable[[Sequence[TaskEvent]], Awaitable[None]]
OnServiceChange = Callable[[Service], None]


class LiveFeedSource:
    """Reads task events (NSQ or history) and service changes, and hands them on."""

    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        on_task_events: OnTaskEvents,
        on_service_change: OnServiceChange,
    ) -> None:
        self._store = store
        self._settings = settings
        self._on_task_events = on_task_events
        self._on_service_change = on_service_change
        self._tasks: list[asyncio.Task[None]] = []
        self._reader: Any = None
        self._from_nsq: asyncio.Queue[TaskEvent] = asyncio.Queue(NSQ_BACKLOG)
        self._cursor: int | None = None  # the last history seq handed on
        self._services: dict[str, tuple[object, ...]] = {}  # url -> last health seen

    async def start(self) -> None:
        s = self._settings
        if nsq_configured(s) and s.events_topic:
            self._start_nsq_reader()
            self._loop("live feed fan-out", 0, self._drain_nsq)
        else:
            self._loop("live feed history", STORE_POLL_S, self._poll_history)
        self._loop("live feed services", SERVICE_POLL_S, self._poll_services)

    def _loop(self, name: str, interval_s: float, step: Callable[[], Awaitable[bool]]) -> None:
        loop = run_every(name=name, interval_s=interval_s, step=step, log=repeated)
        self._tasks.append(asyncio.create_task(loop, name=name))

    def _start_nsq_reader(self) -> None:
        import nsq

        def on_event(message: Any) -> bool:
            try:
                self._from_nsq.put_nowait(event_from_json(message.body))
            except ValueError as exc:
                logger.debug("live feed: not a task event: %s", exc)
            except asyncio.QueueFull:
                repeated.warning(
                    "behind", "live feed: behind by %d events; dropping one", NSQ_BACKLOG
                )
            return True

        self._reader = nsq.Reader(
            topic=self._settings.events_topic,
            channel=f"taskdash-live-{uuid.uuid4().hex[:10]}#ephemeral",
            message_handler=on_event,
            max_in_flight=NSQ_MAX_IN_FLIGHT,
            **reader_options(self._settings),
        )

    async def _drain_nsq(self) -> bool:
        batch = [await self._from_nsq.get()]
        while len(batch) < BATCH and not self._from_nsq.empty():
            batch.append(self._from_nsq.get_nowait())
        await self._on_task_events(batch)
        return True

    async def _poll_history(self) -> bool:
        """Hand on what follows the cursor; True when a full batch came (more may wait)."""
        if self._cursor is None:
            self._cursor = await self._store.tasks.last_event_seq()
        events = await self._store.tasks.events_after(seq=self._cursor, limit=BATCH)
        if events:
            try:
                await self._on_task_events(events)
            except Exception:
                # Handed on or not, these are past: the cursor moves on.
                repeated.error("fan-out", "live feed: fan-out failed", exc_info=True)
            self._cursor = events[-1].seq
        return len(events) >= BATCH

    async def _poll_services(self) -> bool:
        for service in await self._store.services.all():
            state = (service.online, service.clock_skew, service.metadata_error)
            if self._services.get(service.url) != state:
                if service.url in self._services:
                    self._on_service_change(service)
                self._services[service.url] = state
        return False

    async def aclose(self) -> None:
        await cancel_all(self._tasks)
        self._tasks.clear()
        if self._reader is not None:
            async with closing_quietly([self._reader.name]):
                self._reader.close()
            self._reader = None
