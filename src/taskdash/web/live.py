"""Live updates: task and service changes fanned out to this instance's SSE subscribers.

Task changes come from the task events topic through an ephemeral NSQ channel of this instance
when NSQ is configured, else from the shared store's history (so every instance sees every
change either way). Either way they are fanned out in batches: one store read per task of a
batch decides, once, which subscriber hears what (`live_audience`). Service health changes come
from a light poll of the service list and go to everyone signed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from taskdash.domain.models import Task, TaskEvent, User
from taskdash.domain.ports import ServiceReads, TaskHistory, TaskReads
from taskdash.log_limits import RepeatedLog
from taskdash.messaging.nsq_consumer import connection_options, lookupd_url
from taskdash.messaging.nsq_logging import closing_quietly
from taskdash.messaging.task_events import event_json
from taskdash.metrics import watch_streams
from taskdash.settings import Settings
from taskdash.web.live_audience import Audience, Seen, audience

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

STORE_POLL_S = 0.5
SERVICE_POLL_S = 2.0
QUEUE_SIZE = 1000
BATCH = 500
NSQ_BACKLOG = 10_000
YIELD_EVERY = 50  # subscribers served between two yields to the event loop
RECENT_TASKS = 10_000  # tasks whose last read state is kept to announce their removal
CLOSED = ""  # queued to a subscriber whose stream must end (the server is stopping)


@dataclass(eq=False)
class Subscriber:
    """One open stream: who it is for, and the SSE text waiting to be sent to it."""

    user: User
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def send(self, text: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a stuck client misses updates
            self.queue.put_nowait(text)

    def close(self) -> None:
        """What is waiting is dropped; the stream reads CLOSED next and ends."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(CLOSED)


def sse(kind: str, payload: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def event_from_json(body: bytes) -> TaskEvent:
    """A task event as `event_json` wrote it; ValueError when it is not one."""
    raw = json.loads(body)
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    names = ("task_id", "actor", "action", "from_status", "to_status", "from_user", "to_user")
    text = {name: raw.get(name, "") for name in (*names, "detail")}
    if not all(isinstance(value, str) for value in text.values()) or not text["task_id"]:
        raise ValueError("bad task event fields")
    at, seq = raw.get("at"), raw.get("seq", 0)
    if isinstance(at, bool) or not isinstance(at, int | float) or not isinstance(seq, int):
        raise ValueError("bad task event time")
    return TaskEvent(at=float(at), seq=seq, **text)


def task_frame(event: TaskEvent) -> str:
    return f"event: task\ndata: {event_json(event).decode()}\n\n"


class LiveTasks(TaskReads, TaskHistory, Protocol):
    """The parts of the tasks the live feed uses: lookups and history."""


class LiveStore(Protocol):
    """What the live feed uses of the store (a whole Store is one)."""

    @property
    def tasks(self) -> LiveTasks: ...

    @property
    def services(self) -> ServiceReads: ...


class LiveFeed:
    """Fans task events out by visibility, and service changes to everyone."""

    def __init__(self, *, store: LiveStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._subscribers: set[Subscriber] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._reader: Any = None
        self._from_nsq: asyncio.Queue[TaskEvent] = asyncio.Queue(NSQ_BACKLOG)
        self._recent: OrderedDict[str, Seen] = OrderedDict()
        self._streams_closed = False
        watch_streams(self)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, user: User) -> Subscriber:
        subscriber = Subscriber(user)
        if self._streams_closed:
            subscriber.close()
        self._subscribers.add(subscriber)
        return subscriber

    def close_streams(self) -> int:
        """End every open stream now, and any opened later (the server is stopping)."""
        self._streams_closed = True
        for subscriber in self._subscribers:
            subscriber.close()
        return len(self._subscribers)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def broadcast(self, kind: str, payload: dict[str, Any]) -> None:
        """To every subscriber (service changes, which any signed-in user may see)."""
        text = sse(kind, payload)
        for subscriber in list(self._subscribers):
            subscriber.send(text)

    async def fan_out(self, events: Sequence[TaskEvent]) -> None:
        """Send each event to those who may see its task now; a bare removal to those who no
        longer may; nothing to anyone else. A task's events stay in order."""
        by_task: dict[str, list[TaskEvent]] = {}
        for event in events:
            by_task.setdefault(event.task_id, []).append(event)
        subscribers = list(self._subscribers)
        if not subscribers:
            for task_id in by_task:  # unread changes make what is recorded stale
                self._recent.pop(task_id, None)
            return
        told: list[tuple[Audience, str, str]] = []
        for task_id, task_events in by_task.items():
            recorded = self._recent.pop(task_id, None)
            current = await self._current(task_id)
            if current is not None:
                self._recent[task_id] = Seen.of(current)
                if len(self._recent) > RECENT_TASKS:
                    self._recent.popitem(last=False)
            told.append(
                (
                    audience(task_events, current=current, recorded=recorded),
                    "".join(map(task_frame, task_events)),
                    sse("remove", {"task_id": task_id}),
                )
            )
        for index, subscriber in enumerate(subscribers, start=1):
            texts = []
            for heard, full, removal in told:
                kind = heard.hears(subscriber.user)
                if kind == "task":
                    texts.append(full)
                elif kind == "remove":
                    texts.append(removal)
            if texts:
                subscriber.send("".join(texts))
            if index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a big batch to many streams must not stall the loop

    async def _current(self, task_id: str) -> Task | None:
        try:
            return await self._store.tasks.get(task_id)
        except Exception as exc:
            # Unread, nobody but managers can be shown to see it: fail closed.
            repeated.warning("read task", "live feed: cannot read task %s: %s", task_id, exc)
            return None

    async def start(self) -> None:
        s = self._settings
        nsq_configured = bool(s.nsqd_tcp_addresses or s.nsqlookupd_http_addresses)
        if nsq_configured and s.events_topic:
            self._start_nsq_reader()
            self._tasks.append(asyncio.create_task(self._drain_nsq(), name="live: nsq events"))
        else:
            self._tasks.append(asyncio.create_task(self._poll_store(), name="live: history"))
        self._tasks.append(asyncio.create_task(self._poll_services(), name="live: services"))

    def _start_nsq_reader(self) -> None:
        import nsq

        s = self._settings

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
            topic=s.events_topic,
            channel=f"taskdash-live-{uuid.uuid4().hex[:10]}#ephemeral",
            message_handler=on_event,
            nsqd_tcp_addresses=s.nsqd_tcp_addresses or None,
            lookupd_http_addresses=[lookupd_url(a) for a in s.nsqlookupd_http_addresses] or None,
            lookupd_poll_interval=int(s.nsq_lookupd_poll_interval_s),
            max_in_flight=200,
            **connection_options(s),
        )

    async def _drain_nsq(self) -> None:
        while True:
            batch = [await self._from_nsq.get()]
            while len(batch) < BATCH and not self._from_nsq.empty():
                batch.append(self._from_nsq.get_nowait())
            try:
                await self.fan_out(batch)
            except Exception:
                repeated.error("fan-out", "live feed: fan-out failed", exc_info=True)

    async def _poll_store(self) -> None:
        cursor = await self._store.tasks.last_event_seq()
        while True:
            events: list[TaskEvent] = []
            try:
                events = await self._store.tasks.events_after(seq=cursor, limit=BATCH)
            except Exception as exc:
                repeated.warning("history", "live feed: %s", exc)
            if events:
                try:
                    await self.fan_out(events)
                except Exception:
                    repeated.error("fan-out", "live feed: fan-out failed", exc_info=True)
                cursor = events[-1].seq
            if len(events) < BATCH:
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
                repeated.warning("services", "live feed (services): %s", exc)
            await asyncio.sleep(SERVICE_POLL_S)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._reader is not None:
            async with closing_quietly([self._reader.name]):
                self._reader.close()
