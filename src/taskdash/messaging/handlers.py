"""Topic → handler routing: the one entry point that the NSQ consumer and HTTP ingest both call.

A batch is parsed message by message; what cannot be parsed goes to dead letters with the
reason; what can is applied in as few durable writes as possible. A store failure propagates so
that the transport can retry (NSQ REQ, HTTP 503): nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from taskdash.domain.errors import InvalidMessage
from taskdash.domain.events import (
    Heartbeat,
    ServiceRegistration,
    parse_heartbeat,
    parse_service_registration,
    parse_task_message,
)
from taskdash.domain.models import DeadLetter
from taskdash.domain.ports import (
    DeadLetterWrites,
    LeaseRepo,
    ServiceWrites,
    TaskMessageEnvelope,
    TaskWrites,
)
from taskdash.log_limits import RepeatedLog
from taskdash.metrics import BATCH_SIZE, DEAD_LETTERS, MESSAGES, reason_kind
from taskdash.settings import Settings

logger = logging.getLogger(__name__)

# One shared lease row that every probe overwrites (a zero TTL leaves it expired for the next).
PROBE_LEASE = "consumer-write-probe"
repeated = RepeatedLog(logger)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message body with the topic it came on and its publish time (ns since the epoch)."""

    topic: str
    body: bytes
    ts_ns: int
    attempts: int = 1


def _key_from(body_digest: hashlib._Hash, message: InboundMessage) -> str:
    body_digest.update(f"\0{message.topic}\0{message.ts_ns}".encode())
    return body_digest.hexdigest()


def dead_letter_key(message: InboundMessage) -> str:
    """Identifies one published message, so a redelivery is dead-lettered only once."""
    return _key_from(hashlib.sha256(message.body), message)


def to_dead_letter(message: InboundMessage, reason: str, *, now: float) -> DeadLetter:
    """A dead letter of the message: the start of its body, its size and its SHA-256."""
    body_digest = hashlib.sha256(message.body)  # hashed once for both the key and the letter
    return DeadLetter(
        topic=message.topic,
        body=message.body,
        reason=reason,
        attempts=message.attempts,
        at=now,
        key=_key_from(body_digest.copy(), message),
        size=len(message.body),
        sha256=body_digest.hexdigest(),
    )


class UnknownTopic(ValueError):
    pass


class HandlerStore(Protocol):
    """What applying inbound messages uses of the store (a whole Store is one)."""

    @property
    def tasks(self) -> TaskWrites: ...

    @property
    def services(self) -> ServiceWrites: ...

    @property
    def dead_letters(self) -> DeadLetterWrites: ...

    @property
    def coordination(self) -> LeaseRepo: ...

    async def ping(self) -> None: ...


class MessageHandler:
    """Applies batches of inbound messages to the store."""

    def __init__(self, *, store: HandlerStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._kinds = settings.topics
        self._probe_holder = uuid.uuid4().hex[:12]

    def kind_of(self, topic: str) -> str:
        try:
            return self._kinds[topic]
        except KeyError:
            raise UnknownTopic(f"unknown topic {topic!r}") from None

    async def handle_batch(self, messages: Sequence[InboundMessage]) -> None:
        """Apply every message durably, or raise (StoreWriteError) having acknowledged none."""
        now = time.time()
        BATCH_SIZE.observe(len(messages))
        tasks: list[TaskMessageEnvelope] = []
        services: list[tuple[ServiceRegistration, int]] = []
        beats: list[tuple[Heartbeat, int]] = []
        dead: list[DeadLetter] = []
        applied_topics: list[str] = []
        for message in messages:
            kind = self.kind_of(message.topic)
            try:
                if kind == "serviceRegister":
                    services.append((parse_service_registration(message.body), message.ts_ns))
                elif kind == "heartBeat":
                    beats.append((parse_heartbeat(message.body), message.ts_ns))
                else:
                    tasks.append(
                        TaskMessageEnvelope(
                            kind="register" if kind == "taskRegister" else "update",
                            message=parse_task_message(message.body),
                            ts_ns=message.ts_ns,
                        )
                    )
            except InvalidMessage as exc:
                dead.append(to_dead_letter(message, str(exc), now=now))
            else:
                applied_topics.append(message.topic)
        # Services first, so that heartbeats and tasks in the same batch find them.
        for reg, ts_ns in services:
            await self._store.services.register(reg=reg, ts_ns=ts_ns, now=now)
        if tasks:
            await self._store.tasks.apply_messages(envelopes=tasks, now=now)
        for beat, ts_ns in beats:
            await self._store.services.record_heartbeat(
                hb=beat,
                ts_ns=ts_ns,
                now=now,
                timeout_s=self._settings.heartbeat_timeout_s,
                max_skew_s=self._settings.max_clock_skew_s,
            )
        if dead:
            await self._store.dead_letters.add(dead)
            for letter in dead:
                repeated.warning(
                    f"dead letter {letter.topic}",
                    "dead letter on %s: %s",
                    letter.topic,
                    letter.reason,
                )
        for letter in dead:
            MESSAGES.labels(letter.topic, "dead").inc()
            DEAD_LETTERS.labels(reason_kind(letter.reason)).inc()
        for topic, count in Counter(applied_topics).items():
            MESSAGES.labels(topic, "ok").inc(count)

    async def store_answers(self) -> bool:
        """Whether the store reads and commits a write (if not, a failure is not the message's)."""
        # A full disk answers reads: without the write, its failures would split batches, log
        # per message and dead-letter messages that only wait for space.
        try:
            await self._store.ping()
            await self._store.coordination.acquire_lease(
                name=PROBE_LEASE, holder=self._probe_holder, now=time.time(), ttl_s=0.0
            )
        except Exception:
            return False
        return True

    async def dead_letter(self, message: InboundMessage, reason: str) -> None:
        """Keep a message that failed too often; it is never silently dropped."""
        await self._store.dead_letters.add([to_dead_letter(message, reason, now=time.time())])
        MESSAGES.labels(message.topic, "dead").inc()
        DEAD_LETTERS.labels(reason_kind(reason)).inc()
