"""Probe: what concurrent huge unauthenticated posts do to a `taskdash serve` process's memory.

Starts `taskdash serve` (its own process, SQLite in a temp dir), reads its RSS, sends POSTS
concurrent posts of MB megabytes each to PATH (a JSON login whose user name is the bulk: no
session needed), each on its own connection, with a Content-Length or chunked; then reads the
RSS (and peak RSS, VmHWM) again and prints the figures, the answers' statuses and the time taken.
Run: .venv/bin/python bench/probes/big_bodies.py [POSTS] [MB] [PATH] [length|chunked]
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import taskdash

PIECE_BYTES = 1 << 20
HEAD = b'{"operation":"userLogin","password":"x","username":"'
TAIL = b'"}'


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident set size (or another /proc status field) in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no {field} for pid {pid}")


async def post(port: int, path: str, size: int, chunked: bool) -> str:
    """One huge post; the answer's status (or what broke) once the whole body is sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}".encode()
    writer.write(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n" + framing + b"\r\n\r\n"
    )
    piece = b"x" * PIECE_BYTES
    parts = [HEAD, *([piece] * ((size - len(HEAD) - len(TAIL)) // PIECE_BYTES)), TAIL]
    parts.insert(-1, b"x" * (size - sum(len(p) for p in parts)))
    try:
        for part in parts:
            writer.write(b"%x\r\n%b\r\n" % (len(part), part) if chunked else part)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        status = (await reader.readline()).decode().strip() or "closed without an answer"
    except ConnectionError as exc:
        status = f"{type(exc).__name__} while sending"
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return status


async def burst(port: int, posts: int, size: int, path: str, chunked: bool) -> list[str]:
    return await asyncio.gather(*(post(port, path, size, chunked) for _ in range(posts)))


def main() -> None:
    args = sys.argv[1:]
    posts = int(args[0]) if args else 10
    size = int(float(args[1]) * 1e6) if len(args) > 1 else 100_000_000
    path = args[2] if len(args) > 2 else "/rpost/task"
    chunked = len(args) > 3 and args[3] == "chunked"
    with (
        tempfile.TemporaryDirectory() as tmp,
        taskdash(Path(tmp), f"sqlite:///{tmp}/taskdash.db") as server,
    ):
        pid = server.proc.pid
        before, peak_before = rss_mb(pid), rss_mb(pid, "VmHWM")
        began = time.perf_counter()
        statuses = asyncio.run(burst(server.port, posts, size, path, chunked))
        seconds = time.perf_counter() - began
        after, peak = rss_mb(pid), rss_mb(pid, "VmHWM")
        framing = "chunked" if chunked else "Content-Length"
        print(f"# {posts} concurrent posts of {size / 1e6:g} MB ({framing}) to {path}")
        print(f"# answers: {dict(Counter(statuses))} in {seconds:.1f} s")
        print(f"rss before: {before:.1f} MB")
        print(f"rss after: {after:.1f} MB (growth {after - before:+.1f} MB)")
        print(f"rss peak: {peak:.1f} MB (before the posts {peak_before:.1f} MB: start-up)")


if __name__ == "__main__":
    main()
