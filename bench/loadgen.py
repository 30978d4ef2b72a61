"""A lean HTTP/1.1 keep-alive client on asyncio streams, for load from many concurrent clients.

httpx spends about a millisecond of CPU per request; with 200 clients on a 2-core machine the
load generator would then measure itself. This client writes the request bytes and reads a
`Content-Length` answer, nothing more, so the server under test gets nearly all the CPU. Every
benchmark uses it for both the subject and its baseline, so their ratio is fair.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    pass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Connection:
    """One keep-alive connection, with the session cookie a login set on it."""

    host: str
    port: int
    cookie: str = ""
    reader: asyncio.StreamReader | None = field(default=None, repr=False)
    writer: asyncio.StreamWriter | None = field(default=None, repr=False)

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def request(self, method: str, path: str, body: Any = None) -> Answer:
        assert self.reader is not None and self.writer is not None, "open() first"
        payload = b"" if body is None else json.dumps(body).encode()
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(payload)}",
        ]
        if payload:
            head.append("Content-Type: application/json")
        if self.cookie:
            head.append(f"Cookie: {self.cookie}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == "set-cookie":
                    self.cookie = value.split(";", 1)[0]
                headers[name] = value
        if "content-length" not in headers:
            raise HttpError(f"{method} {path}: answer without Content-Length: {headers}")
        content = await self.reader.readexactly(int(headers["content-length"]))
        return Answer(status, headers, content)

    async def timed(self, method: str, path: str, body: Any = None) -> tuple[Answer, float]:
        """The answer and its latency in milliseconds."""
        started = time.perf_counter()
        answer = await self.request(method, path, body)
        return answer, (time.perf_counter() - started) * 1000
