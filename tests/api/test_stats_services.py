"""GET /api/v1/stats/services and /stats/stuck, and the `claimed_before` list filter."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response

from taskdash.domain.models import CLAIMED, DeadLetter, TaskQuery
from taskdash.domain.ports import ClaimRules
from tests.support import (
    SERVICE_URL,
    LiveServer,
    ThreadedApp,
    live_server_on,
    make_settings,
    run_on_store,
    task_body,
    task_id_of,
    wait_until,
)
from tests.sync.test_sweeps import beat, heartbeats

HEARTBEAT_TIMEOUT_S = 2.0  # beats every 0.3 s keep a service online even on a busy machine
HEALTH_SWEEP_S = 0.2
HOUR_S = 3600.0
FAST_HEALTH = {
    "heartbeat_timeout_s": HEARTBEAT_TIMEOUT_S,
    "health_sweep_interval_s": HEALTH_SWEEP_S,
    "claim_ttl_s": 0,  # claims made hours ago in these tests stay held
}
BAD_REQUEST, FORBIDDEN, NOT_LOGGED_IN = 1000, 1005, 1004


@pytest.fixture(params=["sqlite", "mongo"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose services go offline two seconds after their last heartbeat."""
    with live_server_on(request.param, request, tmp_path, **FAST_HEALTH) as live:
        live.add_user("boss", "manager")
        live.add_user("smq")
        live.add_user("lily")
        yield live


def register(server: LiveServer, url: str = SERVICE_URL, name: str = "satEdit") -> None:
    server.publish("serviceRegister", [{"URL": url, "Name": name}])


def online(client: httpx.Client, name: str = "satEdit") -> bool:
    [found] = [s for s in stats(client, "/services")["services"] if s["name"] == name]
    return bool(found["online"])


def stats(client: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    answer = client.get(f"/api/v1/stats{path}", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def timeline(client: httpx.Client, **params: Any) -> dict[str, Any]:
    [found] = stats(client, "/services", **params)["services"]
    return found


def test_spans_follow_the_transitions_and_start_from_the_state_before_since(
    server: LiveServer,
) -> None:
    boss = server.login("boss")
    started = time.time()
    register(server)
    beat(server, SERVICE_URL)
    wait_until(lambda: not online(boss), timeout_s=HEARTBEAT_TIMEOUT_S + 10)
    with heartbeats(server, SERVICE_URL, every_s=0.3):
        wait_until(lambda: online(boss), timeout_s=10)
        check_spans(server, boss, started=started)


def check_spans(server: LiveServer, boss: httpx.Client, *, started: float) -> None:

    found = timeline(boss, since=started - 60)
    assert found["name"] == "satEdit" and found["online"] is True
    assert [s["online"] for s in found["spans"]] == [True, False, True]
    registered_at, offline_at, back_at = (s["from"] for s in found["spans"])
    assert started - 1 <= registered_at < offline_at < back_at  # nothing before registration
    spans = found["spans"]
    assert all(a["to"] == b["from"] for a, b in itertools.pairwise(spans))
    assert 0 <= found["heartbeat_age_s"] < 10 and found["last_heartbeat_at"] >= back_at - 1

    # From inside the offline span: the state before `since` is its last transition's.
    since = (offline_at + back_at) / 2
    later = stats(boss, "/services", since=since, until=back_at + 0.5)
    assert (later["since"], later["until"]) == (since, back_at + 0.5)
    [found] = later["services"]
    assert [(s["from"], s["to"], s["online"]) for s in found["spans"]] == [
        (since, back_at, False),
        (back_at, back_at + 0.5, True),
    ]
    # Annotators see the services page, and so this timeline.
    assert timeline(server.login("smq"))["online"] is True


def test_two_instances_write_each_transition_once(
    request: pytest.FixtureRequest, tmp_path: Path, store_kind: str
) -> None:
    with ExitStack() as stack:
        first = stack.enter_context(live_server_on(store_kind, request, tmp_path, **FAST_HEALTH))
        second = LiveServer(
            make_settings(tmp_path, store_url=first.settings.store_url, **FAST_HEALTH)
        )
        stack.callback(second.start().stop)
        first.add_user("boss", "manager")
        boss = first.login("boss")
        started = time.time()
        register(first)
        register(second)  # the same registration, redelivered to the other instance

        def beat_both() -> None:
            """The same heartbeat at both instances at once (both see it come back)."""
            at_once(lambda: beat(first, SERVICE_URL), lambda: beat(second, SERVICE_URL))

        for _ in range(2):
            beat_both()
            wait_until(lambda: not online(boss), timeout_s=HEARTBEAT_TIMEOUT_S + 10)
            beat_both()
            wait_until(lambda: online(boss), timeout_s=10)
        wait_until(lambda: not online(boss), timeout_s=HEARTBEAT_TIMEOUT_S + 10)
        time.sleep(3 * HEALTH_SWEEP_S)  # both instances sweep again: nothing more is written

        async def transitions(store: Any) -> list[bool]:
            [health] = await store.services.health_history(since=0, until=time.time())
            return [t.online for t in health.transitions]

        expected = [True, False, True, False, True, False]
        assert run_on_store(first.settings, transitions) == expected
        spans = timeline(second.login("boss"), since=started - 60)["spans"]
        assert [s["online"] for s in spans] == expected


@pytest.fixture(params=["sqlite", "mongo"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def at_once(*actions: Callable[[], None]) -> None:
    """Run `actions` in threads started together; re-raise the first failure."""
    gate = threading.Barrier(len(actions))
    failures: list[BaseException] = []

    def run(action: Callable[[], None]) -> None:
        gate.wait()
        try:
            action()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures


def test_metadata_errors_are_counted_bounded_and_kept_after_recovery(
    request: pytest.FixtureRequest, tmp_path: Path, store_kind: str
) -> None:
    failing = {"yes": True}
    app = FastAPI()
    long_path = "/TaskDash/" + "x" * 400

    @app.get(long_path + "/taskMetadata")
    async def metadata() -> Response:
        if failing["yes"]:
            return Response(status_code=500)
        return Response(b"[]", media_type="application/json")

    with (
        ThreadedApp(app) as service,
        live_server_on(
            store_kind, request, tmp_path, metadata_sync_interval_s=0.5, **FAST_HEALTH
        ) as server,
    ):
        server.add_user("boss", "manager")
        boss = server.login("boss")
        register(server, service.url + long_path)
        with heartbeats(server, service.url + long_path, every_s=0.3):
            wait_until(lambda: timeline(boss)["metadata_errors"] >= 2, timeout_s=20)
            found = timeline(boss)
            error = found["last_metadata_error"]
            assert error.startswith("HTTP 500 from http://127.0.0.1:") and error.endswith("…")
            assert len(error) == 300 and found["last_metadata_error_at"] <= time.time()
            failing["yes"] = False

            def recovered() -> bool:
                services = boss.get("/api/v1/services").json()["services"]
                return bool(services[0]["metadata_synced_at"])

            wait_until(recovered, timeout_s=30)
            after = timeline(boss)
            assert after["metadata_errors"] >= found["metadata_errors"]
            assert after["last_metadata_error"] == error  # the last error stays visible


OFFLINE_URL = "http://127.0.0.1:18081"
UNREGISTERED_URL = "http://127.0.0.1:18099"
CLAIM_AGES_H = (0.5, 1.5, 2.5, 5.0, 30.0, 30.0)


def claim_as_of(server: LiveServer, task_id: str, user: str, *, hours_ago: float) -> None:
    """A claim made `hours_ago` (written through the store with that time)."""
    rules = ClaimRules(
        user=user, user_group="", max_claims=0, finished_statuses=("已完成",), offline_origins=()
    )

    async def claim(store: Any) -> None:
        await store.tasks.claim(task_id=task_id, rules=rules, now=time.time() - hours_ago * HOUR_S)

    run_on_store(server.settings, claim)


def stuck_world(server: LiveServer) -> list[str]:
    """Tasks of an offline service and of an unregistered one, some held for hours, dead
    letters new and old; returns the task IDs."""
    register(server, OFFLINE_URL + "/TaskDash")
    bodies = [task_body(f"off-{n}", url=f"{OFFLINE_URL}/edit/{n}") for n in range(7)]
    bodies += [task_body(f"un-{n}", url=f"{UNREGISTERED_URL}/edit/{n}") for n in range(5)]
    server.publish("taskRegister", bodies)
    ids = [task_id_of(body) for body in bodies]
    for number, hours in enumerate(CLAIM_AGES_H):
        claim_as_of(server, ids[number * 2], "smq" if number % 2 else "lily", hours_ago=hours)
    server.publish("taskRegister", [b"{not json", b'{"ProjectID": 5}'])
    old = DeadLetter(
        topic="taskRegister", body=b"{", reason="old", attempts=1, at=time.time() - 2 * 24 * HOUR_S
    )

    async def add_old(store: Any) -> None:
        await store.dead_letters.add([old])

    run_on_store(server.settings, add_old)
    return ids


def recount(server: LiveServer, *, claimed_hours: int) -> dict[str, int]:
    """What /stats/stuck should say, counted from every task, service and dead letter."""
    now = time.time()

    async def count(store: Any) -> dict[str, int]:
        tasks = await store.tasks.find(TaskQuery(limit=100_000))
        services = await store.services.all()
        letters = await store.dead_letters.recent(limit=10_000, before_id=None)
        offline = {s.origin for s in services if not s.online}
        return {
            "claimed_hours": claimed_hours,
            "claimed_longer": sum(
                1
                for t in tasks
                if t.status == CLAIMED and t.claimed_at < now - claimed_hours * HOUR_S
            ),
            "offline_service_tasks": sum(1 for t in tasks if t.origin in offline),
            "dead_letters_24h": sum(1 for d in letters if d.at >= now - 24 * HOUR_S),
        }

    result: dict[str, int] = run_on_store(server.settings, count)
    return result


def test_stuck_counts_equal_a_recount(server: LiveServer) -> None:
    stuck_world(server)
    boss = server.login("boss")
    wait_until(lambda: not online(boss, "satEdit"), timeout_s=HEARTBEAT_TIMEOUT_S + 10)
    for hours in (1, 2, 3, 24, 8760):
        assert stats(boss, "/stuck", claimed_hours=hours) == recount(server, claimed_hours=hours)
    default = stats(boss, "/stuck")
    assert default == {
        "claimed_hours": 24,
        "claimed_longer": 2,
        "offline_service_tasks": 7,
        "dead_letters_24h": 2,
    }
    # The offline count is what the list it links to holds.
    listed = boss.get("/api/v1/tasks", params={"online": "false", "limit": 1000}).json()
    assert len(listed["items"]) == default["offline_service_tasks"]


def list_all(client: httpx.Client, **params: Any) -> list[str]:
    """Every task ID of a list, page by page."""
    ids: list[str] = []
    cursor = None
    while True:
        page_params = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/v1/tasks", params=page_params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        ids += [task["ID"] for task in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_claimed_before_lists_the_tasks_held_since_before_that_time(server: LiveServer) -> None:
    stuck_world(server)
    now = time.time()

    async def read(store: Any) -> list[Any]:
        return list(await store.tasks.find(TaskQuery(limit=100_000)))

    tasks = run_on_store(server.settings, read)
    boss, smq = server.login("boss"), server.login("smq")
    for hours in (1, 3, 24):
        before = now - hours * HOUR_S
        held = {t.id for t in tasks if t.status == CLAIMED and t.claimed_at < before}
        assert set(list_all(boss, claimed_before=before)) == held
        assert set(list_all(smq, claimed_before=before)) == {
            t.id for t in tasks if t.id in held and t.user == "smq"
        }
    assert len(set(list_all(boss, claimed_before=now))) == len(CLAIM_AGES_H)
    assert list_all(boss, claimed_before=now, status="待领取") == []
    lily = {t.id for t in tasks if t.status == CLAIMED and t.user == "lily"}
    assert len(lily) == 3 and set(list_all(boss, claimed_before=now, user="lily")) == lily


def assert_error(answer: httpx.Response, status: int, errid: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["errid"] == errid, body
    return str(body.get("detail", body["errmsg"]))


BAD_PARAMETERS: list[tuple[str, dict[str, Any], str]] = [
    ("/stats/services", {"since": 200, "until": 100}, "after until"),
    ("/stats/services", {"since": "nan"}, "finite"),
    ("/stats/services", {"until": "inf"}, "finite"),
    ("/stats/services", {"since": "-inf"}, "finite"),
    ("/stats/services", {"since": "yesterday"}, "since"),
    ("/stats/stuck", {"claimed_hours": 0}, "claimed_hours"),
    ("/stats/stuck", {"claimed_hours": 8761}, "claimed_hours"),
    ("/stats/stuck", {"claimed_hours": 1.5}, "claimed_hours"),
    ("/tasks", {"claimed_before": "nan"}, "claimed_before"),
    ("/tasks", {"claimed_before": "soon"}, "claimed_before"),
]


def test_bad_parameters_are_refused_with_400(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with live_server_on("sqlite", request, tmp_path) as live:
        live.add_user("boss", "manager")
        boss = live.login("boss")
        for path, params, says in BAD_PARAMETERS:
            detail = assert_error(boss.get(f"/api/v1{path}", params=params), 400, BAD_REQUEST)
            assert says in detail, (path, params, detail)


def test_only_managers_see_stuck_work_and_everyone_signed_in_the_services(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with live_server_on("sqlite", request, tmp_path) as live:
        for name, role in (("ann", "annotator"), ("chk", "checker"), ("boss", "manager")):
            live.add_user(name, role)
        for name in ("ann", "chk"):
            assert_error(live.login(name).get("/api/v1/stats/stuck"), 403, FORBIDDEN)
            assert live.login(name).get("/api/v1/stats/services").status_code == 200
        assert live.login("boss").get("/api/v1/stats/stuck").status_code == 200
        anonymous = live.client()
        for path in ("/api/v1/stats/stuck", "/api/v1/stats/services"):
            assert_error(anonymous.get(path), 401, NOT_LOGGED_IN)
        assert math.isclose(
            live.login("boss").get("/api/v1/stats/services").json()["until"], time.time(), abs_tol=5
        )
