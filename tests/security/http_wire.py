"""A tiny HTTP/1.1 client on one socket: exact control of framing and of connection reuse."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

PIECE_BYTES = 1 << 20


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Wire:
    """One keep-alive connection to 127.0.0.1:port; requests go out exactly as written."""

    def __init__(self, port: int, *, timeout_s: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self._buffer = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send_head(self, method: str, path: str, headers: dict[str, str]) -> None:
        lines = [
            f"{method} {path} HTTP/1.1",
            "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send_body(self, pieces: Iterable[bytes], *, chunked: bool) -> None:
        for piece in pieces:
            self.sock.sendall(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            self.sock.sendall(b"0\r\n\r\n")

    def request(
        self,
        method: str,
        path: str,
        body: Iterable[bytes] = (),
        *,
        chunked: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send a whole request (a body of pieces, chunked or with its Content-Length) and read
        the answer."""
        pieces = list(body)
        framing = (
            {"Transfer-Encoding": "chunked"}
            if chunked
            else {"Content-Length": str(sum(len(p) for p in pieces))}
        )
        self.send_head(method, path, {**framing, **(headers or {})})
        self.send_body(pieces, chunked=chunked)
        return self.read_answer()

    def read_answer(self) -> Answer:
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self._buffer) < length:
            self._recv()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return Answer(int(status_line.split()[1]), headers, body)

    def _read_until(self, mark: bytes) -> bytes:
        while mark not in self._buffer:
            self._recv()
        head, _, self._buffer = self._buffer.partition(mark)
        return head

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self._buffer += data


def pieces_of(size: int, fill: bytes = b"x") -> list[bytes]:
    """`size` bytes in pieces of at most PIECE_BYTES (all the same object where possible)."""
    whole, rest = divmod(size, PIECE_BYTES)
    return [fill * PIECE_BYTES] * whole + ([fill * rest] if rest else [])
