"""Overview services and stuck-work panels: p50/p99 of their endpoints at 10 k, 100 k, 1 M tasks.

The store is filled through its own ingest path (bench/common.py), every task of one service
that is offline (so `offline_service_tasks` counts every task: the worst case), 1 % of the tasks
held with claims spread over the last 48 h, 1,000 dead letters over the same time, and three
services flapping every 10 minutes for the last day (~430 transitions). At each size a fresh
`taskdash serve` answers REQUESTS of each endpoint on one keep-alive connection, as a manager:
`/api/v1/stats/services`, `/api/v1/stats/stuck` and the list the stuck count links to
(`/api/v1/tasks?claimed_before=<now - 24 h>`). Baseline in the same run: a bare FastAPI
endpoint answering the same bytes (bench/bare_app.py).
Run: .venv/bin/python bench/stats_services.py [--quick] [SIZES] [REQUESTS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from common import (
    bare_server,
    load,
    login_cookie,
    median,
    note,
    percentile,
    quick_flag,
    report,
    taskdash,
    timed_requests,
)
from tests.support import PASSWORD, SERVICE_URL, task_body, task_id_of

from taskdash.actions.accounts import create_user
from taskdash.domain.events import Heartbeat, ServiceRegistration
from taskdash.domain.models import DeadLetter, Role
from taskdash.domain.ports import ClaimRules, Store
from taskdash.store import open_store

CLAIMS_AT_ONCE = 200  # claims in flight together share the SQLite writer's commits
HOUR_S = 3600.0
HELD_SHARE = 0.01
DEAD_LETTERS = 1000
FLAPPING = 3
FLAP_EVERY_S = 600.0
TIMEOUT_S = 90.0
SETTINGS = {"TASKDASH_CLAIM_TTL_S": "0"}  # the claims made hours ago stay held


def endpoints(now: float) -> dict[str, str]:
    return {
        "services": "/api/v1/stats/services",
        "stuck": "/api/v1/stats/stuck",
        "claimed_before_list": f"/api/v1/tasks?claimed_before={now - 24 * HOUR_S}&limit=50",
    }


def ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


async def flap(store: Store, url: str, *, since: float, until: float) -> None:
    """A service registered at `since` that goes offline and comes back every FLAP_EVERY_S."""
    reg = ServiceRegistration(url=url, name=url.rsplit("/", 1)[-1], reserved="")
    await store.services.register(reg=reg, ts_ns=ns(since), now=since)
    at = since + FLAP_EVERY_S
    while at < until:
        await store.services.sweep_health(now=at, timeout_s=TIMEOUT_S)
        hb = Heartbeat(url=url, time=int(at), reserved="")
        await store.services.record_heartbeat(
            hb=hb, ts_ns=ns(at + 60), now=at + 60, timeout_s=TIMEOUT_S, max_skew_s=300
        )
        at += FLAP_EVERY_S


async def prepare(store_url: str, *, loaded: int, size: int, now: float) -> None:
    """Make the tasks loaded..size-1 stuck as described above (services once, at the start)."""
    store = await open_store(store_url)
    try:
        if loaded == 0:
            await create_user(store=store, name="boss", role=Role.MANAGER, password=PASSWORD)
            old = now - 7 * 24 * HOUR_S
            reg = ServiceRegistration(url=SERVICE_URL, name="tasks", reserved="")
            await store.services.register(reg=reg, ts_ns=ns(old), now=old)
            await store.services.sweep_health(now=now, timeout_s=TIMEOUT_S)
            for n in range(FLAPPING):
                url = f"http://127.0.0.1:{19000 + n}/flapping{n}"
                await flap(store, url, since=now - 24 * HOUR_S, until=now)
            letters = [
                DeadLetter(
                    topic="taskRegister",
                    body=b"{",
                    reason="invalid JSON",
                    attempts=1,
                    at=now - 48 * HOUR_S * n / DEAD_LETTERS,
                    key=f"bench-{n}",
                )
                for n in range(DEAD_LETTERS)
            ]
            await store.dead_letters.add(letters)
        rules = ClaimRules(
            user="smq", user_group="", max_claims=0, finished_statuses=(), offline_origins=()
        )
        held = range(loaded, size, int(1 / HELD_SHARE))
        claims = [
            store.tasks.claim(
                task_id=loaded_task_id(n), rules=rules, now=now - 48 * HOUR_S * (n % 97) / 97
            )
            for n in held
        ]
        for first in range(0, len(claims), CLAIMS_AT_ONCE):
            await asyncio.gather(*claims[first : first + CLAIMS_AT_ONCE])
    finally:
        await store.aclose()


def loaded_task_id(n: int) -> str:
    """The ID of task n as bench/common.py loads it."""
    body = task_body(
        f"{n:07d}",
        created=1_600_000_000 + n,
        task_type=("satEdit", "vidEdit")[n % 2],
        project=f"p{n % 7}",
    )
    return task_id_of(body)


def measure_stats_services(
    tmp: Path, store_url: str, size: int, requests: int, bare_port: int, now: float
) -> None:
    """Report p50 and p99 of each endpoint at `size` tasks, p99 against the bare endpoint."""
    paths = endpoints(now)
    with taskdash(tmp, store_url, SETTINGS) as server:
        gets = {name: ("GET", path, None) for name, path in paths.items()}
        cookie = login_cookie(server.url, "boss")
        measured = asyncio.run(timed_requests(server.port, cookie, gets, requests))
    for name, (timings, body) in measured.items():
        httpx.put(f"http://127.0.0.1:{bare_port}/_body", content=body)
        bare = asyncio.run(timed_requests(bare_port, "", {name: gets[name]}, requests))[name][0]
        p50, p99 = median(timings), percentile(timings, 99)
        report(f"stats_{name}_sqlite_{size}_p50", p50, "ms", p50 / median(bare), "bare p50")
        report(f"stats_{name}_sqlite_{size}_p99", p99, "ms", p99 / percentile(bare, 99), "bare p99")
        if name == "stuck":
            note(f"stats stuck {size:,}: {body.decode()}")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = quick_flag()
    sizes = [
        int(s)
        for s in (args[0] if args else "10000,100000" if quick else "10000,100000,1000000").split(
            ","
        )
    ]
    requests = int(args[1]) if len(args) > 1 else (200 if quick else 1000)
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        store_url = f"sqlite:///{tmp / 'stats.db'}"
        bare = stack.enter_context(bare_server(tmp))
        loaded = 0
        for size in sizes:
            seconds = load(store_url, loaded, size)
            asyncio.run(prepare(store_url, loaded=loaded, size=size, now=now))
            note(f"stats services: loaded and prepared {loaded:,}..{size:,} in {seconds:.1f} s+")
            loaded = size
            measure_stats_services(tmp, store_url, size, requests, bare.port, now)


if __name__ == "__main__":
    main()
