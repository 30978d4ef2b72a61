"""The scale-out shape: several `taskdash serve` on one store, NSQ found through nsqlookupd."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from taskdash.actions import accounts
from taskdash.domain.models import CLAIMED, Role, TaskQuery
from taskdash.domain.ports import Store
from taskdash.store import open_store
from tests.api.test_claim_concurrency import add_annotators, at_once, log_in_all
from tests.processes import ServeProcess, clean_env, serve_process
from tests.servers import Nsqd, Nsqlookupd
from tests.support import (
    INGEST_TOKEN,
    PASSWORD,
    TOPICS,
    make_settings,
    run_on_store,
    task_body,
    wait_until,
)

MESSAGES = 5_000
PUBLISH_BATCH = 500
CLAIMERS = 50
CLAIMABLE = 30
NOTHING_TO_CLAIM = 1009


@pytest.fixture
def lookupd_with_two_nsqd(tmp_path: Path) -> Iterator[tuple[Nsqlookupd, list[Nsqd]]]:
    """nsqlookupd and two nsqd registered with it, each with the topics and the shared channel."""
    with ExitStack() as stack:
        lookupd = Nsqlookupd(tmp_path / "nsqlookupd").start()
        stack.callback(lookupd.stop)
        daemons = []
        for node in (1, 2):
            nsqd = Nsqd(tmp_path / f"nsqd{node}", node_id=node, lookupd_tcp=lookupd.tcp_address)
            nsqd.start()
            stack.callback(nsqd.stop)
            for topic in TOPICS:
                nsqd.create_channel(topic, "taskdash")
            daemons.append(nsqd)
        yield lookupd, daemons


def consumers(nsqd: Nsqd, topic: str) -> int:
    """How many clients read `topic` on the shared channel of `nsqd`."""
    for t in nsqd.stats().get("topics", []):
        if t["topic_name"] == topic:
            for channel in t["channels"]:
                if channel["channel_name"] == "taskdash":
                    return len(channel["clients"])
    return 0


def handled(instance: ServeProcess) -> int:
    """taskRegister messages this instance applied, from its /metrics."""
    text = httpx.get(f"{instance.url}/metrics", timeout=5).text
    found = re.search(
        r'^taskdash_messages_total\{outcome="ok",topic="taskRegister"\} (\S+)$', text, re.M
    )
    return int(float(found.group(1))) if found else 0


def test_two_instances_on_one_mongodb_share_the_nsq_channel_and_sessions(
    tmp_path: Path,
    mongo_url: str,
    lookupd_with_two_nsqd: tuple[Nsqlookupd, list[Nsqd]],
) -> None:
    lookupd, daemons = lookupd_with_two_nsqd

    async def add_admin() -> None:
        store = await open_store(mongo_url)
        try:
            await accounts.create_user(store=store, name="ops", role=Role.ADMIN, password=PASSWORD)
        finally:
            await store.aclose()

    asyncio.run(add_admin())
    env = clean_env(
        TASKDASH_NSQLOOKUPD_HTTP_ADDRESSES=lookupd.http_address,
        TASKDASH_NSQ_LOOKUPD_POLL_INTERVAL_S="1",
        TASKDASH_LOG_LEVEL="WARNING",
    )
    with (
        serve_process(tmp_path, store_url=mongo_url, env=env, name="a") as a,
        serve_process(tmp_path, store_url=mongo_url, env=env, name="b") as b,
    ):
        # Both instances find both nsqd through nsqlookupd and read the one shared channel.
        wait_until(
            lambda: all(consumers(nsqd, "taskRegister") == 2 for nsqd in daemons), timeout_s=30
        )
        started = time.perf_counter()
        bodies = [json.dumps(task_body(f"{n:05d}")).encode() for n in range(MESSAGES)]
        for start in range(0, MESSAGES, PUBLISH_BATCH):
            daemons[(start // PUBLISH_BATCH) % 2].mpub(
                "taskRegister", bodies[start : start + PUBLISH_BATCH]
            )
        with MongoClient(mongo_url) as client:
            db = client.get_default_database()
            wait_until(lambda: db.tasks.count_documents({}) >= MESSAGES, timeout_s=120, step_s=0.5)
            for nsqd in daemons:
                wait_until(
                    lambda n=nsqd: n.channel_depth("taskRegister", "taskdash") == (0, 0),
                    timeout_s=60,
                )
            elapsed_s = time.perf_counter() - started
            assert db.tasks.count_documents({}) == MESSAGES
            assert len(db.tasks.distinct("task_id")) == MESSAGES
            assert db.task_events.count_documents({"action": "create"}) == MESSAGES
        by_instance = {"a": handled(a), "b": handled(b)}
        print(
            f"\n{MESSAGES} taskRegister over 2 nsqd -> 2 instances on one FerretDB database:"
            f" {elapsed_s:.1f} s ({MESSAGES / elapsed_s:.0f} msg/s); applied by {by_instance}"
        )
        assert all(by_instance.values()), "an instance took no message"
        assert sum(by_instance.values()) >= MESSAGES

        # A session made on one instance is valid on the other (sessions live in the store).
        login = httpx.post(
            f"{a.url}/api/v1/login", json={"username": "ops", "password": PASSWORD}, timeout=10
        )
        assert login.status_code == 200, login.text
        cookie = login.cookies["taskdash_session"]
        me = httpx.get(f"{b.url}/api/v1/me", cookies={"taskdash_session": cookie}, timeout=10)
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "ops"
        assert a.healthy() and b.healthy()


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
def test_concurrent_claim_next_on_two_instances_never_gives_a_task_twice(
    tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    # Two processes on one SQLite file (serialised by BEGIN IMMEDIATE) and on one MongoDB
    # database (each claim one conditional find_one_and_update).
    overrides = {"store_url": request.getfixturevalue("mongo_url")} if store == "mongo" else {}
    settings = make_settings(tmp_path, **overrides)
    names = add_annotators(settings, CLAIMERS)
    env = clean_env(TASKDASH_INGEST_TOKEN=INGEST_TOKEN, TASKDASH_LOG_LEVEL="WARNING")
    bodies = [task_body(f"next-{n:02d}", created=1596174701 + n) for n in range(CLAIMABLE)]
    with (
        serve_process(tmp_path, store_url=settings.store_url, env=env, name="a") as a,
        serve_process(tmp_path, store_url=settings.store_url, env=env, name="b") as b,
    ):
        published = httpx.post(
            f"{b.url}/mpub?topic=taskRegister",
            content=b"\n".join(json.dumps(body).encode() for body in bodies),
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
            timeout=10,
        )
        assert published.text == "OK"
        clients = log_in_all([a.url, b.url], names)  # half the claimers on each instance
        try:
            answers, elapsed_s = at_once(
                clients, lambda client: client.post("/api/v1/tasks/claim-next").json()
            )
        finally:
            for client in clients:
                client.close()
        assert a.healthy() and b.healthy()

    won = {names[i]: answer["ID"] for i, answer in enumerate(answers) if "ID" in answer}
    refused = Counter(answer.get("errid") for answer in answers if "ID" not in answer)
    print(
        f"\n{CLAIMERS} concurrent claim-next over {CLAIMABLE} tasks on two processes:"
        f" {elapsed_s * 1000:.0f} ms"
    )
    assert len(won) == CLAIMABLE and len(set(won.values())) == CLAIMABLE, answers
    assert refused == {NOTHING_TO_CLAIM: CLAIMERS - CLAIMABLE}, refused
    claimed = run_on_store(
        settings, lambda store: store.tasks.find(TaskQuery(status=CLAIMED, limit=1000))
    )
    assert {task.id: task.user for task in claimed} == {task: user for user, task in won.items()}

    async def claims_per_task(store: Store) -> dict[str, int]:
        events = await store.tasks.events_after(seq=0, limit=100_000)
        return dict(Counter(e.task_id for e in events if e.action == "claim"))

    assert run_on_store(settings, claims_per_task) == dict.fromkeys(won.values(), 1)
