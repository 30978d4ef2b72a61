"""NSQ consumer: pynsq Readers for the four topics, behind a small adapter of ours.

Messages are taken asynchronously and applied in batches (the store group-commits them); each
message is FINished only after its batch is durably stored, REQueued with a delay (without
putting the connections into backoff) when the store write failed, and dead-lettered — then
FINished — once it has been tried `nsq_max_attempts` times. pynsq's own `max_tries` is off,
because its default `giving_up` only logs and FINs, which would lose the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import nsq

from taskdash.domain.errors import TaskDashError
from taskdash.log_limits import RepeatedLog
from taskdash.messaging.handlers import InboundMessage, MessageHandler
from taskdash.messaging.nsq_connection import nsq_configured, reader_options
from taskdash.messaging.nsq_logging import closing_quietly
from taskdash.metrics import REQUEUES, watch_connections
from taskdash.settings import Settings

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

MAX_BATCH = 500
# Two batches in progress: one being parsed here while the store commits the other.
WORKERS = 2
# How long a worker lets a small batch fill up: every batch costs one fsync.
LINGER_S = 0.005
# A message that failed for want of the store is retried at least this often, so that it is
# stored within seconds of the store's return (nsqd holds it meanwhile; nothing is lost).
MAX_REQUEUE_DELAY_MS = 5_000
DRAIN_TIMEOUT_S = 10.0


def requeue_delay_ms(attempts: int) -> int:
    return min(MAX_REQUEUE_DELAY_MS, 1000 << min(max(attempts - 1, 0), 6))


class NsqConsumer:
    """Reads the configured topics on the shared channel and applies them in batches."""

    def __init__(self, *, settings: Settings, handler: MessageHandler) -> None:
        self._settings = settings
        self._handler = handler
        self._readers: list[Any] = []
        self._pending: list[tuple[Any, InboundMessage]] = []
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._workers: list[asyncio.Task[None]] = []
        self._active = 0
        self._closing = False

    @property
    def enabled(self) -> bool:
        return nsq_configured(self._settings)

    def start(self) -> None:
        """Create the Readers on the running event loop (tornado wraps asyncio's loop)."""
        s = self._settings
        for topic in s.topics:
            reader = nsq.Reader(
                topic=topic,
                channel=s.nsq_channel,
                message_handler=self._receiver(topic),
                max_in_flight=s.nsq_max_in_flight,
                max_tries=0,
                # nsqd gives a crashed instance's in-flight messages to another after this.
                msg_timeout=s.nsq_msg_timeout_s,
                **reader_options(s),
            )
            self._readers.append(reader)
        self._workers = [
            asyncio.create_task(self._work(), name=f"nsq-consumer-{n}") for n in range(WORKERS)
        ]
        watch_connections(self)
        logger.info(
            "consuming %s on channel %s from %s",
            ", ".join(s.topics),
            s.nsq_channel,
            ", ".join(s.nsqd_tcp_addresses)
            or "nsqlookupd " + ", ".join(s.nsqlookupd_http_addresses),
        )

    def _receiver(self, topic: str) -> Callable[[Any], None]:
        def receive(message: Any) -> None:
            message.enable_async()
            if self._closing:
                message.requeue(backoff=False, delay=0)
                return
            inbound = InboundMessage(
                topic=topic,
                body=bytes(message.body),
                ts_ns=int(message.timestamp),
                attempts=int(message.attempts),
            )
            self._pending.append((message, inbound))
            self._idle.clear()
            self._wakeup.set()

        return receive

    async def _work(self) -> None:
        while True:
            await self._wakeup.wait()
            if not self._pending:
                self._wakeup.clear()
                continue
            if len(self._pending) < MAX_BATCH:
                await asyncio.sleep(LINGER_S)
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            if not self._pending:
                self._wakeup.clear()
            self._active += 1
            try:
                await self._apply(batch)
            finally:
                self._active -= 1
            if not self._pending and not self._active:
                self._idle.set()

    async def _apply(self, batch: list[tuple[Any, InboundMessage]]) -> None:
        try:
            await self._handler.handle_batch([inbound for _, inbound in batch])
        except Exception as exc:
            if not await self._handler.store_answers():
                # The store is away: the whole batch waits for it in nsqd. Not the messages'
                # fault, so no dead-lettering (which needs the store, and would pay its
                # timeout once per message); splitting would pay it once per message too.
                repeated.warning(
                    "store away",
                    "store unavailable (%s); %d messages requeued to wait for it",
                    exc,
                    len(batch),
                )
                for message, inbound in batch:
                    _requeue(message, inbound)
                return
            if len(batch) == 1:
                await self._failed(*batch[0], exc)
                return
            # Isolate what fails: apply one by one, so one bad message holds up no other.
            repeated.warning(
                "batch failed",
                "a batch of %d messages failed (%s); applying one by one",
                len(batch),
                exc,
            )
            for message, inbound in batch:
                try:
                    await self._handler.handle_batch([inbound])
                except Exception as one_exc:
                    await self._failed(message, inbound, one_exc)
                else:
                    _finish(message)
            return
        for message, _ in batch:
            _finish(message)

    async def _failed(self, message: Any, inbound: InboundMessage, exc: Exception) -> None:
        """Requeue with a delay; after the last attempt, dead-letter instead."""
        if not isinstance(exc, TaskDashError):
            repeated.error(
                f"failed {inbound.topic}", "message on %s failed", inbound.topic, exc_info=exc
            )
        if inbound.attempts >= self._settings.nsq_max_attempts:
            await self._give_up(message, inbound, f"failed {inbound.attempts} attempts: {exc}")
        else:
            _requeue(message, inbound)

    async def _give_up(self, message: Any, inbound: InboundMessage, reason: str) -> None:
        """Dead-letter, then FIN; if even that cannot be stored, requeue (never lose it)."""
        try:
            await self._handler.dead_letter(inbound, reason)
        except Exception as exc:
            repeated.warning(
                "dead-letter failed", "cannot dead-letter a message on %s: %s", inbound.topic, exc
            )
            _requeue(message, inbound)
        else:
            _finish(message)

    def connected_by_topic(self) -> dict[str, set[str]]:
        """topic -> the nsqd addresses its Reader holds a subscribed connection to."""
        return {reader.topic: set(reader.conns) for reader in self._readers}

    async def aclose(self) -> None:
        """Drain: RDY 0 everywhere, let in-flight batches finish (bounded), requeue the rest."""
        self._closing = True
        if not self._readers:
            return
        started = time.monotonic()
        in_flight = len(self._pending)
        for reader in self._readers:
            reader.set_max_in_flight(0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), DRAIN_TIMEOUT_S)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        requeued = 0
        for message, inbound in self._pending:
            if not message.has_responded():
                message.requeue(backoff=False, delay=0)
                REQUEUES.labels(inbound.topic).inc()
                requeued += 1
        self._pending.clear()
        logger.info(
            "drained in %.1f s: %d messages were waiting, %d handed back to nsqd",
            time.monotonic() - started,
            in_flight,
            requeued,
        )
        # Give the REQ/FIN frames a moment to reach nsqd before the sockets close.
        await asyncio.sleep(0.05)
        async with closing_quietly(reader.name for reader in self._readers):
            for reader in self._readers:
                reader.close()
        self._readers.clear()


def _finish(message: Any) -> None:
    if not message.has_responded():
        message.finish()


def _requeue(message: Any, inbound: InboundMessage) -> None:
    if not message.has_responded():
        message.requeue(backoff=False, time_ms=requeue_delay_ms(inbound.attempts))
        REQUEUES.labels(inbound.topic).inc()
