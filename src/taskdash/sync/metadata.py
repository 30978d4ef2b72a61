"""Metadata pull (SPEC §4): ask each online service for its tasks and reconcile what we missed.

Every service is pulled concurrently with its own timeout, so a slow or dead one delays no
other; a failure is shown as the service's `metadata_error` and retried with backoff. With
several instances, a lease per service and round makes exactly one of them pull it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from taskdash.domain.errors import InvalidMessage
from taskdash.domain.events import JsonObject, TaskMessage, decode_json, parse_metadata_record
from taskdash.domain.models import DeadLetter, Service
from taskdash.domain.ports import (
    DeadLetterWrites,
    LeaseRepo,
    MetadataRepo,
    ServiceRepo,
    TaskMessageEnvelope,
    TaskWrites,
)
from taskdash.log_limits import RepeatedLog
from taskdash.loops import cancel_all, run_every
from taskdash.metrics import DEAD_LETTERS, reason_kind
from taskdash.settings import Settings

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

MAX_PAGES = 2000
MAX_BACKOFF_S = 900.0
MAX_ERROR_CHARS = 300
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


class MetadataError(Exception):
    """A pull that failed: timeout, non-2xx, bad JSON, or not an array."""


def metadata_url(service_url: str, path: str) -> str:
    return f"{service_url.rstrip('/')}/{path.lstrip('/')}"


def _url_without_secrets(match: re.Match[str]) -> str:
    """A URL without user, password, query or fragment (where secrets would be)."""
    try:
        parts = urlsplit(match.group(0))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return match.group(0).split("://", 1)[0] + "://…"
    if ":" in host:
        host = f"[{host}]"
    cut = "?…" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{cut}"


def shown_error(text: str) -> str:
    """A pull's error as kept and shown: URLs without credentials, at most MAX_ERROR_CHARS."""
    text = _URL.sub(_url_without_secrets, text)
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return text


def backoff_s(failures: int, interval_s: float) -> float:
    return float(min(MAX_BACKOFF_S, interval_s * (1 << min(failures, 10))))


class MetadataStore(Protocol):
    """What the metadata pull uses of the store (a whole Store is one)."""

    @property
    def tasks(self) -> TaskWrites: ...

    @property
    def services(self) -> ServiceRepo: ...

    @property
    def metadata(self) -> MetadataRepo: ...

    @property
    def dead_letters(self) -> DeadLetterWrites: ...

    @property
    def coordination(self) -> LeaseRepo: ...


class MetadataPuller:
    """Pulls metadata from services and reconciles it into the store."""

    def __init__(
        self, *, store: MetadataStore, settings: Settings, client: httpx.AsyncClient
    ) -> None:
        self._store = store
        self._settings = settings
        self._client = client
        self._holder = uuid.uuid4().hex[:12]
        self._running: dict[str, asyncio.Task[int]] = {}

    async def fetch_pages(self, service: Service) -> tuple[list[TaskMessage], list[DeadLetter]]:
        """Every page of a service's metadata; bad records become dead letters."""
        s = self._settings
        url = metadata_url(service.url, s.metadata_path)
        records: list[TaskMessage] = []
        bad: list[DeadLetter] = []
        offset = 0
        for _ in range(MAX_PAGES):
            page = await self._fetch_page(url, offset)
            for item in page:
                try:
                    if not isinstance(item, JsonObject):
                        raise InvalidMessage("body: a metadata record must be a JSON object")
                    records.append(parse_metadata_record(item))
                except InvalidMessage as exc:
                    bad.append(
                        DeadLetter(
                            topic=f"metadata:{service.url}",
                            body=repr(item).encode(),  # the letter keeps its start
                            reason=str(exc),
                            attempts=1,
                            at=time.time(),
                            key=f"metadata:{service.url}:{offset}:{len(records) + len(bad)}",
                        )
                    )
            if len(page) < s.metadata_page_size:
                return records, bad
            offset += len(page)
        raise MetadataError(f"more than {MAX_PAGES} pages")

    async def _fetch_page(self, url: str, offset: int) -> list[object]:
        s = self._settings
        try:
            if s.metadata_method == "POST":
                answer = await self._client.post(
                    url,
                    json={
                        "operation": "GetTaskMetadata",
                        "offset": offset,
                        "limit": s.metadata_page_size,
                    },
                )
            else:
                answer = await self._client.get(
                    url, params={"offset": offset, "limit": s.metadata_page_size}
                )
        except httpx.TimeoutException:
            raise MetadataError(f"timed out after {s.metadata_timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise MetadataError(f"{type(exc).__name__}: {exc}") from None
        if not answer.is_success:
            raise MetadataError(f"HTTP {answer.status_code} from {url}")
        try:
            page = decode_json(answer.content)
        except InvalidMessage as exc:
            raise MetadataError(str(exc)) from None
        if not isinstance(page, list):
            raise MetadataError("the answer is not a JSON array")
        return page

    async def pull(self, service: Service) -> int:
        """Pull one service now and record the outcome; returns how many records it gave."""
        now = time.time()
        try:
            records, bad = await self.fetch_pages(service)
        except MetadataError as exc:
            failures = service.metadata_failures + 1
            wait = backoff_s(failures, self._settings.metadata_sync_interval_s)
            repeated.warning(
                f"pull {service.url}",
                "metadata pull from %s failed (%d): %s",
                service.url,
                failures,
                exc,
            )
            await self._store.services.record_metadata_sync(
                url=service.url,
                error=shown_error(str(exc)),
                now=now,
                failures=failures,
                next_at=now + wait,
            )
            return 0
        await self.reconcile(records, service=service.url, fetched_ns=time.time_ns())
        if bad:
            await self._store.dead_letters.add(bad)
            for letter in bad:
                DEAD_LETTERS.labels(reason_kind(letter.reason)).inc()
        await self._store.services.record_metadata_sync(
            url=service.url,
            error=f"{len(bad)} bad record(s)" if bad else "",
            now=now,
            failures=0,
            next_at=now + self._settings.metadata_sync_interval_s,
        )
        return len(records)

    async def reconcile(
        self, records: Sequence[TaskMessage], *, service: str, fetched_ns: int
    ) -> None:
        """Store the records and apply them to tasks as updates as of the fetch time."""
        now = fetched_ns / 1e9
        await self._store.metadata.save(records=records, service=service, now=now)
        envelopes = [
            TaskMessageEnvelope(kind="metadata", message=r, ts_ns=fetched_ns) for r in records
        ]
        for start in range(0, len(envelopes), 500):
            await self._store.tasks.apply_messages(
                envelopes=envelopes[start : start + 500], now=now
            )

    async def start_due_pulls(self) -> None:
        """Start a pull for every online service that is due and whose lease we get."""
        now = time.time()
        lease_s = max(1.0, self._settings.metadata_sync_interval_s * 0.9)
        for service in await self._store.services.all():
            if (
                not service.online
                or service.metadata_next_at > now
                or service.url in self._running
                or urlsplit(service.url).scheme not in ("http", "https")
            ):
                continue
            if await self._store.coordination.acquire_lease(
                name=f"metadata:{service.url}", holder=self._holder, now=now, ttl_s=lease_s
            ):
                task = asyncio.create_task(self.pull(service), name=f"metadata {service.url}")
                self._running[service.url] = task
                task.add_done_callback(functools.partial(self._forget, service.url))

    def _forget(self, url: str, _: asyncio.Task[int]) -> None:
        self._running.pop(url, None)

    async def run(self) -> None:
        """Start due pulls every second; each runs on its own, so none waits for another."""
        await run_every(
            name="metadata scheduling",
            interval_s=min(self._settings.metadata_sync_interval_s, 1.0),
            step=self.start_due_pulls,
            log=repeated,
        )

    async def aclose(self) -> None:
        await cancel_all(self._running.values())
