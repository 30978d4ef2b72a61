"""Of N simultaneous claims exactly one wins: on one server (SQLite and MongoDB) and on two
processes sharing one SQLite file; N simultaneous claims by one user stop at the claim limit."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskdash.actions import accounts
from taskdash.domain.models import CLAIMED, Role, TaskQuery, User
from taskdash.settings import Settings
from tests.processes import clean_env, serve_process
from tests.support import (
    INGEST_TOKEN,
    PASSWORD,
    LiveServer,
    live_server_on,
    make_settings,
    run_on_store,
    task_body,
    task_id_of,
)

CLAIMERS = 50
ROUNDS = 5
NEXT_TASKS = 20
NOT_CLAIMABLE = {"errid": 1007, "errmsg": "任务不可领取"}
NOTHING_TO_CLAIM = {"errid": 1009, "errmsg": "没有可领取的任务"}
CLAIM_LIMIT_REACHED = {"errid": 1008, "errmsg": "已达到领取上限"}
CLAIM_LIMIT = 5
ONE_USERS_CLAIMS = 30


def add_annotators(settings: Settings, count: int) -> list[str]:
    """`count` annotators on one store connection, sharing one argon2 hash (~0.1 s each)."""
    names = [f"annotator{n:02d}" for n in range(count)]

    async def add_all(store: Any) -> None:
        password_hash = await accounts.hash_password(PASSWORD)
        for name in names:
            await store.accounts.add_user(
                User(name=name, role=Role.ANNOTATOR, password_hash=password_hash)
            )

    run_on_store(settings, add_all)
    return names


def log_in(base_url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60)
    answer = client.post(
        "/rpost/task", json={"operation": "userLogin", "username": name, "password": PASSWORD}
    )
    assert answer.json() == "success", answer.text
    return client


def log_in_all(base_urls: Sequence[str], names: Sequence[str]) -> list[httpx.Client]:
    """One logged-in client per name; the clients are spread over `base_urls` in turn."""
    with ThreadPoolExecutor(16) as pool:
        return list(
            pool.map(lambda n: log_in(base_urls[n % len(base_urls)], names[n]), range(len(names)))
        )


def at_once(
    clients: Sequence[httpx.Client], request: Callable[[httpx.Client], Any]
) -> tuple[list[Any], float]:
    """Run `request` on every client in its own thread, released together by a barrier.

    Returns the answers in client order and the seconds from release to the last answer.
    """
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)
    started: list[float] = [0.0] * len(clients)
    finished: list[float] = [0.0] * len(clients)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            # Refresh the keep-alive connection first: uvicorn drops ones idle for 5 s, and a
            # request racing that close would be reset (not a claim outcome).
            assert clients[index].get("/healthz").status_code == 200
            barrier.wait(timeout=30)
            started[index] = time.perf_counter()
            answers[index] = request(clients[index])
            finished[index] = time.perf_counter()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a claimer hung"
    assert not errors, [repr(e) for e in errors[:3]]
    return answers, max(finished) - min(started)


def bind(task_id: str | None) -> Callable[[httpx.Client], Any]:
    body = {"operation": "TaskBind", **({"ID": task_id} if task_id else {})}
    return lambda client: client.post("/rpost/task", json=body).json()


def assert_one_winner(answers: list[Any]) -> int:
    """Exactly one "success" and 1007 for everyone else; the winner's index."""
    winners = [i for i, a in enumerate(answers) if a == "success"]
    losers = [a for a in answers if a != "success"]
    assert len(winners) == 1, Counter(map(str, answers))
    assert all({k: a.get(k) for k in ("errid", "errmsg")} == NOT_CLAIMABLE for a in losers), losers
    return winners[0]


def claim_history(settings: Settings, task_id: str) -> list[Any]:
    async def history(store: Any) -> list[Any]:
        return [
            e for e in await store.tasks.history(task_id=task_id, limit=100) if e.action == "claim"
        ]

    result: list[Any] = run_on_store(settings, history)
    return result


def test_fifty_claims_of_one_task_have_one_winner(server: LiveServer) -> None:
    names = add_annotators(server.settings, CLAIMERS)
    bodies = [task_body(f"race-{n}") for n in range(ROUNDS)]
    server.publish("taskRegister", bodies)
    clients = log_in_all([server.url], names)
    winners: list[str] = []
    elapsed: list[float] = []
    try:
        for body in bodies:
            answers, elapsed_s = at_once(clients, bind(task_id_of(body)))
            winners.append(names[assert_one_winner(answers)])
            elapsed.append(elapsed_s)
    finally:
        for client in clients:
            client.close()

    median_s = statistics.median(elapsed)
    print(
        f"\n{CLAIMERS} concurrent claims of one task, {ROUNDS} rounds (one server):"
        f" {', '.join(f'{s * 1000:.0f}' for s in elapsed)} ms;"
        f" median {CLAIMERS / median_s:.0f} claims/s,"
        f" overall {CLAIMERS * ROUNDS / sum(elapsed):.0f} claims/s"
    )
    for body, winner in zip(bodies, winners, strict=True):
        task = run_on_store(server.settings, lambda store, b=body: store.tasks.get(task_id_of(b)))
        assert (task.user, task.status) == (winner, CLAIMED)
        assert [e.to_user for e in claim_history(server.settings, task.id)] == [winner]


def test_fifty_claims_across_two_processes_sharing_one_store(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    names = add_annotators(settings, CLAIMERS)
    env = clean_env(TASKDASH_INGEST_TOKEN=INGEST_TOKEN, TASKDASH_LOG_LEVEL="WARNING")
    body = task_body("race-2")
    with (
        serve_process(tmp_path, store_url=settings.store_url, env=env, name="a") as a,
        serve_process(tmp_path, store_url=settings.store_url, env=env, name="b") as b,
    ):
        published = httpx.post(
            f"{a.url}/pub?topic=taskRegister",
            json=body,
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        )
        assert published.text == "OK"
        clients = log_in_all([a.url, b.url], names)
        try:
            answers, elapsed_s = at_once(clients, bind(task_id_of(body)))
        finally:
            for client in clients:
                client.close()
        winner = names[assert_one_winner(answers)]
        print(
            f"\n{CLAIMERS} concurrent claims of one task (two processes):"
            f" {elapsed_s * 1000:.0f} ms, {CLAIMERS / elapsed_s:.0f} claims/s"
        )
        assert a.healthy() and b.healthy()
    task = run_on_store(settings, lambda store: store.tasks.get(task_id_of(body)))
    assert (task.user, task.status) == (winner, CLAIMED)
    assert [e.to_user for e in claim_history(settings, task.id)] == [winner]


def test_concurrent_claim_next_never_gives_a_task_twice(server: LiveServer) -> None:
    names = add_annotators(server.settings, CLAIMERS)
    bodies = [task_body(f"next-{n:02d}", created=1596174701 + n) for n in range(NEXT_TASKS)]
    server.publish("taskRegister", bodies)
    clients = log_in_all([server.url], names)
    try:
        answers, elapsed_s = at_once(clients, bind(None))
    finally:
        for client in clients:
            client.close()

    winners = {names[i] for i, a in enumerate(answers) if a == "success"}
    losers = [a for a in answers if a != "success"]
    assert len(winners) == NEXT_TASKS, Counter(map(str, answers))
    assert len(losers) == CLAIMERS - NEXT_TASKS
    assert all({k: a.get(k) for k in ("errid", "errmsg")} == NOTHING_TO_CLAIM for a in losers)
    print(f"\n{CLAIMERS} concurrent claim-next over {NEXT_TASKS} tasks: {elapsed_s * 1000:.0f} ms")

    claimed = run_on_store(
        server.settings, lambda store: store.tasks.find(TaskQuery(status=CLAIMED, limit=1000))
    )
    assert sorted(t.id for t in claimed) == sorted(task_id_of(b) for b in bodies)
    assert sorted(t.user for t in claimed) == sorted(winners), "a user got two tasks"
    for task in claimed:
        assert [e.to_user for e in claim_history(server.settings, task.id)] == [task.user]


@pytest.fixture(params=["sqlite", "mongo"])
def limited_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose users may hold CLAIM_LIMIT unfinished tasks."""
    with live_server_on(request.param, request, tmp_path, max_claims_per_user=CLAIM_LIMIT) as live:
        yield live


def test_thirty_claims_by_one_user_at_once_stop_at_the_claim_limit(
    limited_server: LiveServer,
) -> None:
    server = limited_server
    [name] = add_annotators(server.settings, 1)
    bodies = [task_body(f"limit-{n:02d}") for n in range(ONE_USERS_CLAIMS)]
    server.publish("taskRegister", bodies)
    clients = [log_in(server.url, name) for _ in bodies]  # one user, in many tabs at once
    task_of = {id(client): task_id_of(body) for client, body in zip(clients, bodies, strict=True)}
    try:
        answers, elapsed_s = at_once(clients, lambda client: bind(task_of[id(client)])(client))
    finally:
        for client in clients:
            client.close()
    print(
        f"\n{ONE_USERS_CLAIMS} concurrent claims by one user (limit {CLAIM_LIMIT}):"
        f" {elapsed_s * 1000:.0f} ms"
    )
    refused = [a for a in answers if a != "success"]
    assert len(answers) - len(refused) == CLAIM_LIMIT, Counter(map(str, answers))
    assert all({k: a.get(k) for k in ("errid", "errmsg")} == CLAIM_LIMIT_REACHED for a in refused)
    held = run_on_store(
        server.settings, lambda store: store.tasks.find(TaskQuery(user=name, limit=1000))
    )
    assert len(held) == CLAIM_LIMIT and {t.status for t in held} == {CLAIMED}
