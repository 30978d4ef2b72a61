"""Claim: C concurrent clients doing claim-next over N tasks until none are left.

Each client is its own annotator with its own session and keep-alive connection, claiming
through `POST /api/v1/tasks/claim-next` on a `taskdash serve` process (SQLite, per-user claim
limit off) until the answer is errid 1009 (nothing to claim). Figures: claims per second, p99
latency, and the number of tasks given to two people, counted both from the answers and from the
store afterwards (must be 0). Baseline: the same clients and requests against a bare FastAPI
endpoint returning the same bytes (bench/bare_app.py). The sessions are made in the store
beforehand: 200 logins would time argon2, not claims.
Run: .venv/bin/python bench/claim.py [--quick] [TASKS] [CLIENTS] [ROUNDS]
(medians over ROUNDS rounds, each on a fresh store; doubles are summed)
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import bare_server, load, median, note, percentile, quick_flag, report, taskdash
from loadgen import Connection

from taskdash.actions.accounts import hash_password, token_hash
from taskdash.domain.models import Role, Session, User
from taskdash.store import open_store
from taskdash.web.deps import SESSION_COOKIE

PASSWORD = "bench-password-1"


async def make_sessions(store_url: str, clients: int) -> list[tuple[str, str]]:
    """`clients` annotators, each with a session; returns (name, token) pairs."""
    store = await open_store(store_url)
    try:
        password_hash = await hash_password(PASSWORD)
        now = time.time()
        pairs = []
        for n in range(clients):
            name, token = f"bench{n:03d}", secrets.token_urlsafe(32)
            await store.accounts.add_user(
                User(name=name, role=Role.ANNOTATOR, password_hash=password_hash, group="")
            )
            await store.accounts.add_session(
                Session(token_hash(token), name, created_at=now, expires_at=now + 3600)
            )
            pairs.append((name, token))
        return pairs
    finally:
        await store.aclose()


async def claim_all(
    port: int, sessions: list[tuple[str, str]], path: str, stop_after: int | None
) -> tuple[float, list[float], dict[str, list[str]], bytes]:
    """Every client claims until told there is nothing left (or, against the baseline, until
    `stop_after` requests were made in all). Returns seconds, latencies, the ids each client
    won and one successful answer."""
    connections = [
        await Connection("127.0.0.1", port, cookie=f"{SESSION_COOKIE}={token}").open()
        for _, token in sessions
    ]
    for connection in connections:  # every connection accepted and warm before the clock
        await connection.request("GET", "/healthz")
    latencies: list[float] = []
    claimed: dict[str, list[str]] = {name: [] for name, _ in sessions}
    samples: list[bytes] = []
    made = 0

    async def client(name: str, connection: Connection) -> None:
        nonlocal made
        while stop_after is None or made < stop_after:
            made += 1
            answer, ms = await connection.timed("POST", path)
            latencies.append(ms)
            if stop_after is not None:
                continue  # the baseline answers the same bytes every time
            if answer.status == 200:
                samples.append(answer.body)
                claimed[name].append(answer.json()["ID"])
            elif answer.json().get("errid") == 1009:
                return
            else:
                raise AssertionError(f"{name}: {answer.status} {answer.body!r}")

    started = time.perf_counter()
    await asyncio.gather(
        *(client(name, conn) for (name, _), conn in zip(sessions, connections, strict=True))
    )
    seconds = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return seconds, latencies, claimed, samples[0] if samples else b""


def stored_doubles(db_path: Path, claimed: dict[str, list[str]]) -> int:
    """Tasks whose stored holder is not the one client that was told it won them."""
    winner = {task_id: name for name, ids in claimed.items() for task_id in ids}
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT _id, user FROM tasks").fetchall()
        claims = Counter(
            task_id
            for (task_id,) in conn.execute("SELECT task_id FROM task_events WHERE action='claim'")
        )
    wrong_holder = sum(1 for task_id, user in rows if winner.get(task_id) != user)
    return wrong_holder + sum(1 for n in claims.values() if n > 1)


@dataclass
class Round:
    rate: float
    p99: float
    doubles: int
    bare_rate: float
    bare_p99: float


def one_round(tmp: Path, tasks: int, clients: int) -> Round:
    """A fresh store of `tasks` tasks claimed empty by `clients` clients, then the baseline."""
    db_path = tmp / "claim.db"
    store_url = f"sqlite:///{db_path}"
    seconds = load(store_url, 0, tasks)
    sessions = asyncio.run(make_sessions(store_url, clients))
    with taskdash(tmp, store_url, {"TASKDASH_MAX_CLAIMS_PER_USER": "0"}) as server:
        elapsed, latencies, claimed, sample = asyncio.run(
            claim_all(server.port, sessions, "/api/v1/tasks/claim-next", None)
        )
    ids = [task_id for got in claimed.values() for task_id in got]
    if len(set(ids)) != tasks:
        raise AssertionError(f"{len(set(ids))} distinct tasks claimed, expected {tasks}")
    doubles = len(ids) - len(set(ids)) + stored_doubles(db_path, claimed)
    with bare_server(tmp) as bare:
        httpx.put(f"{bare.url}/_body", content=sample)
        bare_elapsed, bare_latencies, _, _ = asyncio.run(
            claim_all(bare.port, sessions, "/claim-next", len(latencies))
        )
    per_client = [len(got) for got in claimed.values()]
    result = Round(
        rate=len(ids) / elapsed,
        p99=percentile(latencies, 99),
        doubles=doubles,
        bare_rate=len(latencies) / bare_elapsed,
        bare_p99=percentile(bare_latencies, 99),
    )
    note(
        f"claim: loaded {tasks:,} tasks in {seconds:.1f} s; {len(ids):,} claims by {clients}"
        f" clients in {elapsed:.2f} s ({result.rate:,.0f}/s, p99 {result.p99:.0f} ms); claims"
        f" per client min {min(per_client)} median {median(per_client):.0f} max"
        f" {max(per_client)}; {len(latencies):,} requests; bare endpoint"
        f" {result.bare_rate:,.0f} req/s"
    )
    return result


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tasks = int(args[0]) if args else (3000 if quick_flag() else 10_000)
    clients = int(args[1]) if len(args) > 1 else 200
    rounds = int(args[2]) if len(args) > 2 else (1 if quick_flag() else 3)
    results = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp_dir:
            results.append(one_round(Path(tmp_dir), tasks, clients))
    rate = median([r.rate for r in results])
    bare_rate = median([r.bare_rate for r in results])
    p99, bare_p99 = median([r.p99 for r in results]), median([r.bare_p99 for r in results])
    doubles = sum(r.doubles for r in results)
    report(f"claim_next_{clients}_clients", rate, "claims/s", rate / bare_rate, "bare FastAPI")
    report(f"claim_next_{clients}_clients_p99", p99, "ms", p99 / bare_p99, "bare FastAPI")
    report(
        f"claim_next_{clients}_clients_doubles",
        doubles,
        "tasks",
        doubles / (tasks * rounds),
        "tasks claimed",
    )


if __name__ == "__main__":
    main()
