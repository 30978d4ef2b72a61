"""Live updates: task and service changes fanned out to this instance's SSE subscribers.

The changes come from messaging/live_feed.py (NSQ or the store's history). Task changes are
fanned out in batches: one store read per task of a batch decides, once, which subscriber hears
what (`live_audience`). Service health changes go to everyone signed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from taskdash.domain.models import Service, Task, TaskEvent, User
from taskdash.domain.ports import ServiceReads, TaskHistory, TaskReads
from taskdash.domain.task_event_json import event_json
from taskdash.log_limits import RepeatedLog
from taskdash.metrics import watch_streams
from taskdash.web.live_audience import Audience, Seen, audience

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

QUEUE_SIZE = 1000
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

    def __init__(self, *, store: LiveStore) -> None:
        self._store = store
        self._subscribers: set[Subscriber] = set()
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

    def service_changed(self, service: Service) -> None:
        """A service's health changed: everyone hears of it."""
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
