"""Live updates: task and service changes fanned out to this instance's SSE subscribers.

Task changes come from the task events topic through an ephemeral NSQ channel of this instance
when NSQ is configured, else from the shared store's history (so every instance sees every
change either way). Service health changes come from a light poll of the service list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from taskdash.domain.ports import Store
from taskdash.messaging.nsq_consumer import connection_options, lookupd_url
from taskdash.messaging.nsq_logging import closing_quietly
from taskdash.messaging.task_events import event_json
from taskdash.settings import Settings

logger = logging.getLogger(__name__)

STORE_POLL_S = 0.5
SERVICE_POLL_S = 2.0
QUEUE_SIZE = 1000


class LiveFeed:
    """Broadcasts `(kind, payload)` pairs to every subscriber queue."""

    def __init__(self, *, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._subscribers: set[asyncio.Queue[tuple[str, dict[str, Any]]]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._reader: Any = None

    def subscribe(self) -> asyncio.Queue[tuple[str, dict[str, Any]]]:
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        self._subscribers.discard(queue)

    def broadcast(self, kind: str, payload: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck client misses updates
                queue.put_nowait((kind, payload))

    async def start(self) -> None:
        s = self._settings
        nsq_configured = bool(s.nsqd_tcp_addresses or s.nsqlookupd_http_addresses)
        if nsq_configured and s.events_topic:
            self._start_nsq_reader()
        else:
            self._tasks.append(asyncio.create_task(self._poll_store(), name="live: history"))
        self._tasks.append(asyncio.create_task(self._poll_services(), name="live: services"))

    def _start_nsq_reader(self) -> None:
        import nsq

        s = self._settings

        def on_event(message: Any) -> bool:
            with contextlib.suppress(ValueError):
                self.broadcast("task", json.loads(message.body))
            return True

        self._reader = nsq.Reader(
            topic=s.events_topic,
            channel=f"taskdash-live-{uuid.uuid4().hex[:10]}#ephemeral",
            message_handler=on_event,
            nsqd_tcp_addresses=s.nsqd_tcp_addresses or None,
            lookupd_http_addresses=[lookupd_url(a) for a in s.nsqlookupd_http_addresses] or None,
            lookupd_poll_interval=int(s.nsq_lookupd_poll_interval_s),
            max_in_flight=200,
            **connection_options(s),
        )

    async def _poll_store(self) -> None:
        cursor = await self._store.tasks.last_event_seq()
        while True:
            try:
                events = await self._store.tasks.events_after(cursor, limit=500)
                for event in events:
                    self.broadcast("task", json.loads(event_json(event)))
                if events:
                    cursor = events[-1].seq
            except Exception as exc:
                logger.warning("live feed: %s", exc)
            await asyncio.sleep(STORE_POLL_S)

    async def _poll_services(self) -> None:
        seen: dict[str, tuple[object, ...]] = {}
        while True:
            try:
                for service in await self._store.services.all():
                    state = (service.online, service.clock_skew, service.metadata_error)
                    if seen.get(service.url) != state:
                        if service.url in seen:
                            self.broadcast(
                                "service",
                                {
                                    "url": service.url,
                                    "name": service.name,
                                    "online": service.online,
                                    "clock_skew": service.clock_skew,
                                    "metadata_error": service.metadata_error,
                                },
                            )
                        seen[service.url] = state
            except Exception as exc:
                logger.warning("live feed (services): %s", exc)
            await asyncio.sleep(SERVICE_POLL_S)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._reader is not None:
            async with closing_quietly([self._reader.name]):
                self._reader.close()
