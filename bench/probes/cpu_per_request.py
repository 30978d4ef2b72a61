"""Probe: CPU time the serving process spends per request on the hot routes, against the bare app.

Wall-clock latencies on a shared machine move 20-40 % with the other load; the CPU time a process
is charged (utime + stime from /proc) moves much less, so this compares TaskDash's own cost per
request with the bare FastAPI endpoint sending the same bytes, both in the same run. Starts
`taskdash serve` on SQLite with TASKS tasks, signs in one annotator, then sends REQUESTS of each
kind one after another on one keep-alive connection: the list page (`/api/v1/tasks?unclaimed=true
&limit=50`), the compatible list (`GetTasksNoUser`, limit 50), claim-next (TASKS must exceed
REQUESTS; the per-user claim limit is off). Prints µs of server CPU per request and the ratio.
Run: .venv/bin/python bench/probes/cpu_per_request.py [TASKS] [REQUESTS]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from claim import make_sessions
from common import bare_server, load, taskdash
from loadgen import Connection

from taskdash.web.deps import SESSION_COOKIE

WARM_UP = 50
KINDS = {
    "list": ("GET", "/api/v1/tasks?unclaimed=true&limit=50", None),
    "rpost": ("POST", "/rpost/task", {"operation": "GetTasksNoUser", "limit": 50}),
    "claim-next": ("POST", "/api/v1/tasks/claim-next", None),
}


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_per_request(
    port: int, pid: int, cookie: str, requests: int, kinds: list[str]
) -> dict[str, tuple[float, bytes]]:
    """µs of the server's CPU per request of each of `kinds`, and the last answer."""
    connection = await Connection("127.0.0.1", port, cookie=cookie).open()
    try:
        figures = {}
        for name in kinds:
            method, path, body = KINDS[name]
            for _ in range(WARM_UP):
                await connection.request(method, path, body)
            before = cpu_s(pid)
            for _ in range(requests):
                answer = await connection.request(method, path, body)
            assert answer.status == 200, answer.body
            figures[name] = ((cpu_s(pid) - before) / requests * 1e6, answer.body)
        return figures
    finally:
        await connection.close()


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        store_url = f"sqlite:///{tmp / 'cpu.db'}"
        load(store_url, 0, tasks)
        [(_, token)] = asyncio.run(make_sessions(store_url, 1))
        cookie = f"{SESSION_COOKIE}={token}"
        settings = {"TASKDASH_MAX_CLAIMS_PER_USER": "0"}
        with taskdash(tmp, store_url, settings) as server:
            served = asyncio.run(
                cpu_per_request(server.port, server.proc.pid, cookie, requests, [*KINDS])
            )
        with bare_server(tmp) as bare:
            for name, (own_us, body) in served.items():
                httpx.put(f"{bare.url}/_body", content=body)
                measured = cpu_per_request(bare.port, bare.proc.pid, "", requests, [name])
                bare_us = asyncio.run(measured)[name][0]
                print(
                    f"{name}: {own_us:.0f} µs CPU per request, bare {bare_us:.0f} µs"
                    f" (ratio {own_us / bare_us:.2f})"
                )


if __name__ == "__main__":
    main()
