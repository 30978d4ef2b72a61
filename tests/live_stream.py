"""Reading `GET /api/v1/events` from a test: a signed-in client's stream, read on a thread."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class StreamEvent:
    kind: str
    data: dict[str, Any]


class EventStream:
    """An open event stream; entering waits for the server's `: connected` line (subscribed)."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self.events: queue.Queue[StreamEvent] = queue.Queue()
        self.lines: list[str] = []
        self.received: list[StreamEvent] = []  # every event, also those taken from `events`
        self.ended = threading.Event()  # the server closed the stream
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._response: httpx.Response | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> EventStream:
        self._thread.start()
        if not self._connected.wait(CONNECT_TIMEOUT_S):
            raise AssertionError(f"the stream did not connect: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._response is not None and not self.ended.is_set():
            # Closing the response would not wake the thread blocked reading it; a shutdown does.
            sock = self._response.extensions["network_stream"].get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the stream reader did not stop"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/api/v1/events", timeout=60) as response:
                self._response = response
                if response.status_code != 200:
                    self._error = AssertionError(f"stream refused: {response.status_code}")
                    return
                kind = ""
                for line in response.iter_lines():
                    self.lines.append(line)
                    if line == ": connected":
                        self._connected.set()
                    elif line.startswith("event: "):
                        kind = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        event = StreamEvent(kind, json.loads(line.removeprefix("data: ")))
                        self.received.append(event)
                        self.events.put(event)
            self.ended.set()
        except (httpx.HTTPError, RuntimeError) as exc:  # closed under us when the test ends
            if not self._stopping.is_set():
                self._error = exc
                self.ended.set()

    def next(self, timeout_s: float = 5.0) -> StreamEvent:
        return self.events.get(timeout=timeout_s)

    def until(
        self, match: Callable[[StreamEvent], bool], *, timeout_s: float = 10.0
    ) -> list[StreamEvent]:
        """Everything received up to and including the first event that `match`es."""
        deadline = time.monotonic() + timeout_s
        seen: list[StreamEvent] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event within {timeout_s} s; got {seen}")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            seen.append(event)
            if match(event):
                return seen

    def text(self) -> str:
        return "\n".join(self.lines)
