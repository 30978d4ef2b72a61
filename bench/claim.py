"""Claim: C concurrent clients doing claim-next over N tasks until none are left.

Each client is its own annotator with its own session and keep-alive connection, claiming
through `POST /api/v1/tasks/claim-next` on `taskdash serve` (per-user claim limit off) until the
answer is errid 1009 (nothing to claim). With INSTANCES > 1, that many `taskdash serve`
processes share the store and the clients are dealt out among them in turn. Figures: claims per
second, p99 latency, and the number of tasks given to two people, counted both from the answers
and from the store afterwards (each task's holder and its claim history; must be 0). Baseline:
the same clients and requests against a bare FastAPI endpoint returning the same bytes
(bench/bare_app.py). The sessions are made in the store beforehand: 200 logins would time
argon2, not claims.
Run: .venv/bin/python bench/claim.py [--quick] [TASKS] [CLIENTS] [ROUNDS] [sqlite|mongo] [INSTANCES]
(medians over ROUNDS rounds, each on a fresh store; doubles are summed; mongo: a FerretDB
started for the run, a fresh database each round)
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import bare_server, load, median, note, percentile, quick_flag, report, taskdash
from loadgen import Connection
from pymongo import MongoClient
from tests.ferretdb import FerretDb

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
    ports: list[int], sessions: list[tuple[str, str]], path: str, stop_after: int | None
) -> tuple[float, list[float], dict[str, list[str]], bytes]:
    """Every client (on the servers at `ports` in turn) claims until told there is nothing left
    (or, against the baseline, until `stop_after` requests were made in all). Returns seconds,
    latencies, the ids each client won and one successful answer."""
    connections = [
        await Connection(
            "127.0.0.1", ports[n % len(ports)], cookie=f"{SESSION_COOKIE}={token}"
        ).open()
        for n, (_, token) in enumerate(sessions)
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


def stored_claims(store_url: str) -> tuple[dict[str, str], Counter[str]]:
    """Each task's stored holder, and how many claim lines each task's history has."""
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            holders = dict(conn.execute("SELECT _id, user FROM tasks").fetchall())
            claims = Counter(
                task_id
                for (task_id,) in conn.execute(
                    "SELECT task_id FROM task_events WHERE action='claim'"
                )
            )
        return holders, claims
    with MongoClient(store_url, serverSelectionTimeoutMS=2000) as client:
        db = client.get_default_database()
        holders, lines = {}, {}
        for doc in db.tasks.find({}, {"user": 1, "pending_history": 1}):
            holders[doc["_id"]] = doc["user"]
            # Lines still carried by a task count too (once: a line's key is its identity).
            lines |= {
                line["key"]: doc["_id"]
                for line in doc.get("pending_history") or []
                if line["action"] == "claim"
            }
        for line in db.task_events.find({"action": "claim"}, {"key": 1, "task_id": 1}):
            lines[line.get("key") or f"seq {line['_id']}"] = line["task_id"]
        return holders, Counter(lines.values())


def stored_doubles(store_url: str, claimed: dict[str, list[str]]) -> int:
    """Tasks whose stored holder is not the one client that was told it won them, and tasks
    whose history has more than one claim."""
    winner = {task_id: name for name, ids in claimed.items() for task_id in ids}
    holders, claims = stored_claims(store_url)
    wrong_holder = sum(1 for task_id, user in holders.items() if winner.get(task_id) != user)
    return wrong_holder + sum(1 for n in claims.values() if n > 1)


@dataclass
class Round:
    rate: float
    p99: float
    doubles: int
    bare_rate: float
    bare_p99: float


@contextmanager
def servers(tmp: Path, store_url: str, instances: int) -> Iterator[list[int]]:
    """`instances` `taskdash serve` processes on one store; yields their ports."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                taskdash(tmp, store_url, {"TASKDASH_MAX_CLAIMS_PER_USER": "0"})
            ).port
            for _ in range(instances)
        ]


def one_round(tmp: Path, store_url: str, tasks: int, clients: int, instances: int) -> Round:
    """A fresh store of `tasks` tasks claimed empty by `clients` clients, then the baseline."""
    seconds = load(store_url, 0, tasks)
    sessions = asyncio.run(make_sessions(store_url, clients))
    with servers(tmp, store_url, instances) as ports:
        elapsed, latencies, claimed, sample = asyncio.run(
            claim_all(ports, sessions, "/api/v1/tasks/claim-next", None)
        )
    ids = [task_id for got in claimed.values() for task_id in got]
    if len(set(ids)) != tasks:
        raise AssertionError(f"{len(set(ids))} distinct tasks claimed, expected {tasks}")
    doubles = len(ids) - len(set(ids)) + stored_doubles(store_url, claimed)
    with bare_server(tmp) as bare:
        httpx.put(f"{bare.url}/_body", content=sample)
        bare_elapsed, bare_latencies, _, _ = asyncio.run(
            claim_all([bare.port], sessions, "/claim-next", len(latencies))
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
        f" clients on {instances} instance(s) in {elapsed:.2f} s ({result.rate:,.0f}/s, p99"
        f" {result.p99:.0f} ms); claims per client min {min(per_client)} median"
        f" {median(per_client):.0f} max {max(per_client)}; {len(latencies):,} requests;"
        f" bare endpoint {result.bare_rate:,.0f} req/s"
    )
    return result


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tasks = int(args[0]) if args else (3000 if quick_flag() else 10_000)
    clients = int(args[1]) if len(args) > 1 else 200
    rounds = int(args[2]) if len(args) > 2 else (1 if quick_flag() else 3)
    backend = args[3] if len(args) > 3 else "sqlite"
    instances = int(args[4]) if len(args) > 4 else 1
    results = []
    with tempfile.TemporaryDirectory() as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        ferretdb = None
        if backend == "mongo":
            ferretdb = FerretDb(tmp / "ferretdb", durable=True).start()
            stack.callback(ferretdb.close)
        for n in range(rounds):
            round_dir = tmp / f"round{n}"
            round_dir.mkdir()
            store_url = (
                ferretdb.url(f"claim{n}") if ferretdb else f"sqlite:///{round_dir / 'claim.db'}"
            )
            results.append(one_round(round_dir, store_url, tasks, clients, instances))
    rate = median([r.rate for r in results])
    bare_rate = median([r.bare_rate for r in results])
    p99, bare_p99 = median([r.p99 for r in results]), median([r.bare_p99 for r in results])
    doubles = sum(r.doubles for r in results)
    name = f"claim_next_{clients}_clients"
    if backend != "sqlite":
        name = f"claim_next_{backend}_{clients}_clients_{instances}_instances"
    report(name, rate, "claims/s", rate / bare_rate, "bare FastAPI")
    report(f"{name}_p99", p99, "ms", p99 / bare_p99, "bare FastAPI")
    report(f"{name}_doubles", doubles, "tasks", doubles / (tasks * rounds), "tasks claimed")


if __name__ == "__main__":
    main()
