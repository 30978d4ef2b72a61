"""NSQ's part of /readyz: every nsqd that holds one of our topics is being consumed from.

With nsqd addresses configured, each of them must be connected for every topic. With
nsqlookupd, the nsqd it lists (and the topics each one holds) are what must be connected; a
topic that exists on no nsqd yet needs no connection, but nsqlookupd must list some nsqd.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from taskdash.messaging.nsq_connection import LOOKUPD_TIMEOUT_S, lookupd_url
from taskdash.settings import Settings

# nsqlookupd is asked at most once per interval; /readyz answers in between from the last look.
LOOKUP_INTERVAL_S = 2.0

Expected = dict[str, set[str]]


def producers_by_topic(nodes: dict[str, Any], topics: Iterable[str]) -> Expected:
    """topic -> nsqd TCP addresses holding it, from nsqlookupd's /nodes answer."""
    expected: Expected = {topic: set() for topic in topics}
    for producer in nodes.get("producers", []):
        address = f"{producer['broadcast_address']}:{producer['tcp_port']}"
        tombstones = producer.get("tombstones") or [False] * len(producer.get("topics", []))
        for topic, tombstoned in zip(producer.get("topics", []), tombstones, strict=False):
            if topic in expected and not tombstoned:
                expected[topic].add(address)
    return expected


class NsqReadiness:
    """'ok', or 'error: …' naming what is not consumed."""

    def __init__(self, *, settings: Settings, readers: Callable[[], dict[str, set[str]]]) -> None:
        self._settings = settings
        self._connected = readers  # topic -> nsqd addresses a Reader is connected to
        self._lock = asyncio.Lock()
        self._looked_at = float("-inf")
        self._nodes: int | None = None
        self._expected: Expected | None = None

    async def check(self) -> str:
        s = self._settings
        if s.nsqd_tcp_addresses:
            expected: Expected = {topic: set(s.nsqd_tcp_addresses) for topic in s.topics}
        else:
            looked = await self._look_up()
            if looked is None:
                return "error: no nsqlookupd answers"
            if not self._nodes:
                return "error: nsqlookupd lists no nsqd yet"
            expected = looked
        connected = self._connected()
        missing = sorted(
            f"{topic}@{address}"
            for topic, addresses in expected.items()
            for address in addresses - connected.get(topic, set())
        )
        if missing:
            return "error: not consuming " + ", ".join(missing)
        return "ok"

    async def _look_up(self) -> Expected | None:
        """What nsqlookupd lists now; the last answer while none of them answers."""
        async with self._lock:
            if time.monotonic() - self._looked_at < LOOKUP_INTERVAL_S:
                return self._expected
            self._looked_at = time.monotonic()
            answered, nodes, expected = False, 0, {t: set[str]() for t in self._settings.topics}
            async with httpx.AsyncClient(timeout=LOOKUPD_TIMEOUT_S) as client:
                for address in self._settings.nsqlookupd_http_addresses:
                    try:
                        answer = await client.get(f"{lookupd_url(address)}/nodes")
                        answer.raise_for_status()
                        listed = answer.json()
                    except (httpx.HTTPError, ValueError):
                        continue
                    answered = True
                    nodes += len(listed.get("producers", []))
                    for topic, found in producers_by_topic(listed, self._settings.topics).items():
                        expected[topic] |= found
            if answered:
                self._nodes, self._expected = nodes, expected
            return self._expected
