"""Publishing to NSQ: a pynsq Writer behind an awaitable `mpub`.

nsqd addresses come from the settings, or from nsqlookupd's /nodes when only lookupd is set;
then the Writer is made once nsqlookupd lists an nsqd (it may start after TaskDash).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import nsq

from taskdash.messaging.nsq_connection import LOOKUPD_TIMEOUT_S, lookupd_url, writer_options
from taskdash.messaging.nsq_logging import closing_quietly
from taskdash.settings import Settings

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0


class PublishError(Exception):
    pass


class NsqPublisher:
    """An async front on pynsq's Writer."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._writer: Any = None
        self._started = False
        self._discovered_at = float("-inf")

    async def start(self) -> None:
        self._started = True
        if self._settings.nsqd_tcp_addresses:
            self._connect(list(self._settings.nsqd_tcp_addresses))
        else:
            await self.refresh()

    def _connect(self, addresses: list[str]) -> None:
        self._writer = nsq.Writer(addresses, **writer_options(self._settings))

    async def _discover(self) -> list[str]:
        """nsqd TCP addresses known to nsqlookupd (used when only lookupd is configured)."""
        self._discovered_at = time.monotonic()
        found: set[str] = set()
        async with httpx.AsyncClient(timeout=LOOKUPD_TIMEOUT_S) as client:
            for address in self._settings.nsqlookupd_http_addresses:
                try:
                    answer = await client.get(f"{lookupd_url(address)}/nodes")
                    for producer in answer.json().get("producers", []):
                        found.add(f"{producer['broadcast_address']}:{producer['tcp_port']}")
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    logger.debug("nsqlookupd %s: %s", address, exc)
        return sorted(found)

    async def refresh(self) -> None:
        """Connect to nsqd nodes that appeared in nsqlookupd (at most once per poll interval)."""
        s = self._settings
        if not self._started or s.nsqd_tcp_addresses:
            return
        if time.monotonic() - self._discovered_at < s.nsq_lookupd_poll_interval_s:
            return
        addresses = await self._discover()
        if not addresses:
            return
        if self._writer is None:
            self._connect(addresses)
            return
        for address in addresses:
            host, _, port = address.rpartition(":")
            if address not in self._writer.conns:
                self._writer.connect_to_nsqd(host, int(port))

    async def wait_connected(self, *, timeout_s: float) -> None:
        """Wait (bounded) until the Writer has finished its handshake with some nsqd."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._writer is not None and not self._writer.conns:
            if asyncio.get_running_loop().time() > deadline:
                raise PublishError("no nsqd connection")
            await asyncio.sleep(0.05)

    async def mpub(self, topic: str, bodies: list[bytes]) -> None:
        """Publish `bodies` in one MPUB; raises PublishError unless nsqd answered OK."""
        if self._writer is None:
            raise PublishError("nsqlookupd lists no nsqd yet" if self._started else "not started")
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[Any] = loop.create_future()

        def callback(conn: Any, data: Any) -> None:
            if not answered.done():
                answered.set_result(data)

        self._writer.mpub(topic, bodies, callback=callback)
        try:
            data = await asyncio.wait_for(answered, PUBLISH_TIMEOUT_S)
        except TimeoutError:
            raise PublishError("nsqd did not answer") from None
        if isinstance(data, Exception) or data != b"OK":
            raise PublishError(str(data))

    async def aclose(self) -> None:
        if self._writer is not None:
            conns = list(self._writer.conns.values())
            async with closing_quietly(conn.id for conn in conns):
                for conn in conns:
                    conn.close()
            self._writer = None
