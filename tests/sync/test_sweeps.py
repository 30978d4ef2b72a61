"""Background sweeps: claim leases expire; services without heartbeats go offline and back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    SERVICE_URL,
    LiveServer,
    make_settings,
    task_body,
    task_id_of,
    wait_until,
)

CLAIM_TTL_S = 1.0
CLAIM_SWEEP_S = 0.2
HEARTBEAT_TIMEOUT_S = 1.0
HEALTH_SWEEP_S = 0.2
# Thread scheduling, an HTTP round trip and a write commit between a deadline and our poll.
SLACK_S = 0.5

LiveFactory = Callable[..., LiveServer]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveFactory]:
    """Start a server with setting overrides; stopped at the end of the test."""
    started: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(make_settings(tmp_path, **overrides)).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def rpost(client: httpx.Client, operation: str, **params: Any) -> Any:
    return client.post("/rpost/task", json={"operation": operation, **params}).json()


def history(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["history"]
    return sorted(events, key=lambda e: float(e["at"]))


def services(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/api/v1/services")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def service(client: httpx.Client, url: str) -> dict[str, Any]:
    [found] = [s for s in services(client)["services"] if s["url"] == url]
    return found


def beat(server: LiveServer, url: str, *, sent_at: float | None = None) -> None:
    when = int(time.time() if sent_at is None else sent_at)
    server.publish("heartBeat", [{"url": url, "time": when, "reserved": ""}])


@contextmanager
def heartbeats(server: LiveServer, url: str, *, every_s: float) -> Iterator[None]:
    """A task service's heartbeat loop, running for the duration of the block."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                beat(server, url)
            except BaseException as exc:  # reported by the block's exit
                failures.append(exc)
                return
            stop.wait(every_s)

    beat(server, url)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not failures, failures


def test_expired_claim_returns_to_unclaimed_with_history(live: LiveFactory) -> None:
    server = live(claim_ttl_s=CLAIM_TTL_S, claim_sweep_interval_s=CLAIM_SWEEP_S)
    server.add_user("smq")
    server.add_user("lily")
    server.add_user("boss", "manager")
    body = task_body("lease-1")
    task_id = task_id_of(body)
    server.publish("taskRegister", [body])
    smq, boss = server.login("smq"), server.login("boss")

    assert rpost(smq, "TaskBind", ID=task_id) == "success"
    wait_until(
        lambda: boss.get(f"/api/v1/tasks/{task_id}").json()["task"]["Status"] == "待领取",
        timeout_s=CLAIM_TTL_S + CLAIM_SWEEP_S + 10,
    )

    detail = boss.get(f"/api/v1/tasks/{task_id}").json()["task"]
    assert (detail["User"], detail["ClaimedAt"]) == ("", None)
    events = history(boss, task_id)
    assert [e["action"] for e in events] == ["create", "claim", "expire"]
    claim, expire = events[1], events[2]
    assert (expire["from_status"], expire["to_status"]) == ("已领取", "待领取")
    assert (expire["from_user"], expire["to_user"]) == ("smq", "")
    assert expire["actor"] == "system"
    held_s = expire["at"] - claim["at"]
    assert CLAIM_TTL_S <= held_s <= CLAIM_TTL_S + CLAIM_SWEEP_S + SLACK_S, held_s

    assert rpost(smq, "GetTasksByUser") == []
    assert rpost(server.login("lily"), "TaskBind", ID=task_id) == "success"


def test_claim_within_the_lease_is_kept(live: LiveFactory) -> None:
    server = live(claim_ttl_s=30, claim_sweep_interval_s=CLAIM_SWEEP_S)
    server.add_user("smq")
    body = task_body("lease-2")
    server.publish("taskRegister", [body])
    smq = server.login("smq")
    assert rpost(smq, "TaskBind", ID=task_id_of(body)) == "success"
    # Several sweeps run (each writes under the same lock as this claim) without releasing it.
    sweeps_before = time.monotonic()
    wait_until(lambda: time.monotonic() - sweeps_before > 5 * CLAIM_SWEEP_S)
    assert [t["Status"] for t in rpost(smq, "GetTasksByUser")] == ["已领取"]


def test_service_without_heartbeats_goes_offline_and_comes_back(live: LiveFactory) -> None:
    server = live(heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S, health_sweep_interval_s=HEALTH_SWEEP_S)
    server.add_user("smq")
    server.add_user("lily")
    server.add_user("boss", "manager")
    smq, lily, boss = server.login("smq"), server.login("lily"), server.login("boss")
    body = task_body("health-1")
    task_id = task_id_of(body)

    server.publish("serviceRegister", [{"URL": SERVICE_URL, "Name": "satEdit"}])
    with heartbeats(server, SERVICE_URL, every_s=HEARTBEAT_TIMEOUT_S / 5):
        server.publish("taskRegister", [body])
        assert service(boss, SERVICE_URL)["online"] is True
        assert [t["ID"] for t in rpost(smq, "GetTasksNoUser")] == [task_id]
    last_beat = service(boss, SERVICE_URL)["last_heartbeat"]

    wait_until(lambda: service(boss, SERVICE_URL)["online"] is False, timeout_s=10, step_s=0.01)
    offline_after_s = time.time() - last_beat
    assert offline_after_s >= HEARTBEAT_TIMEOUT_S
    assert offline_after_s <= HEARTBEAT_TIMEOUT_S + HEALTH_SWEEP_S + SLACK_S, offline_after_s

    assert errid(rpost(smq, "TaskBind", ID=task_id)) == 1007
    assert errid(rpost(smq, "TaskBind")) == 1009
    assert rpost(smq, "GetTasksNoUser") == []
    assert boss.get(f"/api/v1/tasks/{task_id}").json()["task"]["ServiceOnline"] is False
    assert service(boss, SERVICE_URL)["tasks"]["unclaimed"] == 1

    with heartbeats(server, SERVICE_URL, every_s=HEARTBEAT_TIMEOUT_S / 5):
        assert service(boss, SERVICE_URL)["online"] is True
        assert [t["ID"] for t in rpost(lily, "GetTasksNoUser")] == [task_id]
        assert rpost(lily, "TaskBind", ID=task_id) == "success"


def test_service_that_never_beats_goes_offline_after_registering(live: LiveFactory) -> None:
    server = live(heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S, health_sweep_interval_s=HEALTH_SWEEP_S)
    server.add_user("boss", "manager")
    boss = server.login("boss")
    server.publish("serviceRegister", [{"URL": SERVICE_URL, "Name": "satEdit"}])
    registered = service(boss, SERVICE_URL)
    assert registered["online"] is True and registered["last_heartbeat"] is None
    wait_until(lambda: service(boss, SERVICE_URL)["online"] is False, timeout_s=10)
    assert time.time() - registered["registered_at"] >= HEARTBEAT_TIMEOUT_S


def test_heartbeat_matched_by_origin_only_when_one_service_has_it(live: LiveFactory) -> None:
    server = live()
    server.add_user("boss", "manager")
    boss = server.login("boss")
    single = "http://127.0.0.1:18081/satEdit"
    shared_a, shared_b = "http://127.0.0.1:18082/a", "http://127.0.0.1:18082/b"
    server.publish(
        "serviceRegister",
        [{"URL": single, "Name": "satEdit"}, {"URL": shared_a}, {"URL": shared_b}],
    )

    beat(server, "http://127.0.0.1:18081/some/other/path")
    assert service(boss, single)["last_heartbeat"] is not None
    beat(server, "http://127.0.0.1:18082/c")
    assert service(boss, shared_a)["last_heartbeat"] is None
    assert service(boss, shared_b)["last_heartbeat"] is None
    # The trailing slash and default-port spelling of a registered URL still match it exactly.
    beat(server, "http://127.0.0.1:18082/b/")
    assert service(boss, shared_b)["last_heartbeat"] is not None

    found = services(boss)
    assert sorted(s["url"] for s in found["services"]) == sorted([single, shared_a, shared_b])
    assert found["unknown_heartbeats"] == {"http://127.0.0.1:18082/c": 1}


def test_unknown_heartbeat_sources_are_counted_not_registered(live: LiveFactory) -> None:
    server = live()
    server.add_user("boss", "manager")
    boss = server.login("boss")
    ghost, other = "http://127.0.0.1:19999/ghost", "http://127.0.0.1:19998/"
    for _ in range(3):
        beat(server, ghost)
    beat(server, other)
    found = services(boss)
    assert found["services"] == []
    assert found["unknown_heartbeats"] == {ghost: 3, other: 1}

    # Once the source registers, its beats count for it and it is no longer listed as unknown.
    server.publish("serviceRegister", [{"URL": ghost, "Name": "ghost"}])
    beat(server, ghost)
    assert service(boss, ghost)["last_heartbeat"] is not None
    assert services(boss)["unknown_heartbeats"] == {other: 1}


def test_skewed_heartbeat_flags_clock_skew_but_still_counts(live: LiveFactory) -> None:
    skew_s = 60.0
    server = live(
        heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S,
        health_sweep_interval_s=HEALTH_SWEEP_S,
        max_clock_skew_s=skew_s,
    )
    server.add_user("boss", "manager")
    boss = server.login("boss")
    server.publish("serviceRegister", [{"URL": SERVICE_URL, "Name": "satEdit"}])
    wait_until(lambda: service(boss, SERVICE_URL)["online"] is False, timeout_s=10)

    before = time.time()
    beat(server, SERVICE_URL, sent_at=before - 10 * skew_s)
    skewed = service(boss, SERVICE_URL)
    assert (skewed["online"], skewed["clock_skew"]) == (True, True)
    assert skewed["last_heartbeat"] >= before  # judged by receipt, not by the sender's clock
    assert skewed["last_heartbeat_sender_time"] == int(before - 10 * skew_s)

    beat(server, SERVICE_URL, sent_at=time.time() + 10 * skew_s)
    assert service(boss, SERVICE_URL)["clock_skew"] is True
    beat(server, SERVICE_URL, sent_at=time.time() + skew_s / 2)
    fine = service(boss, SERVICE_URL)
    assert (fine["online"], fine["clock_skew"]) == (True, False)


def errid(answer: Any) -> Any:
    return answer.get("errid") if isinstance(answer, dict) else answer
