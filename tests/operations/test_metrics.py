"""/metrics: one of each thing an operator graphs moves its metric, with bounded labels; the
Grafana dashboard shipped in docs/ parses and queries only metrics a live scrape has."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live_stream import EventStream
from tests.operations.disks import fill
from tests.operations.test_readiness import small_disk  # noqa: F401 (a fixture)
from tests.servers import Nsqd
from tests.support import SERVICE_URL, LiveServer, make_settings, task_body, task_id_of, wait_until

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana" / "taskdash.json"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: LiveServer) -> Samples:
    answer = httpx.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metered(small_disk: Path, tmp_path: Path, nsqd: Nsqd) -> Iterator[LiveServer]:  # noqa: F811
    settings = make_settings(
        tmp_path,
        store_url=f"sqlite:///{small_disk / 'taskdash.db'}",
        nsqd_tcp_addresses=[nsqd.tcp_address],
        claim_ttl_s=1.0,
        claim_sweep_interval_s=0.2,
        health_sweep_interval_s=0.2,
        login_max_failures_per_user=1,
    )
    live = LiveServer(settings).start()
    try:
        yield live
    finally:
        live.stop()


def test_one_of_each_thing_moves_its_metric(
    metered: LiveServer,
    nsqd: Nsqd,
    small_disk: Path,  # noqa: F811
) -> None:
    server = metered
    server.add_user("smq")
    server.add_user("boss", "manager")
    boss, smq = server.login("boss"), server.login("smq")
    before = scrape(server)

    # Messages through nsqd: one stored, two dead letters of two kinds.
    nsqd.pub("serviceRegister", json.dumps({"URL": SERVICE_URL, "Name": "satEdit"}).encode())
    for n in range(3):
        nsqd.pub("taskRegister", json.dumps(task_body(f"m{n}")).encode())
    nsqd.pub("taskRegister", b"{not json")
    nsqd.pub("taskRegister", json.dumps({"ProjectID": "p"}).encode())
    ids = [task_id_of(task_body(f"m{n}")) for n in range(3)]
    wait_until(lambda: boss.get(f"/api/v1/tasks/{ids[2]}").status_code == 200)
    wait_until(
        lambda: value(scrape(server), "taskdash_dead_letters_total", reason="missing_field") >= 1
    )

    # Claims: one claimed and released, one left to expire, one assigned.
    assert smq.post(f"/api/v1/tasks/{ids[0]}/claim").status_code == 200
    assert smq.post(f"/api/v1/tasks/{ids[0]}/release").status_code == 200
    assert smq.post(f"/api/v1/tasks/{ids[1]}/claim").status_code == 200
    assigned = boss.post("/api/v1/tasks/assign", json={"ids": [ids[2]], "user": "smq"})
    assert assigned.status_code == 200, assigned.text

    # Logins: one refused, then one throttled (1 failure allowed per user and address).
    bad = {"username": "smq", "password": "wrong-password"}
    statuses = [httpx.post(f"{server.url}/api/v1/login", json=bad).status_code for _ in range(3)]
    assert 429 in statuses, statuses

    # A store error and a requeue: the disk is full.
    filler = fill(small_disk)
    try:
        nsqd.pub("taskRegister", json.dumps(task_body("held")).encode())
        wait_until(
            lambda: value(scrape(server), "taskdash_requeues_total", topic="taskRegister") >= 1
        )
    finally:
        filler.unlink()

    expired = value(before, "taskdash_claims_total", action="expire") + 1
    wait_until(lambda: value(scrape(server), "taskdash_claims_total", action="expire") >= expired)

    with EventStream(smq):
        wait_until(lambda: value(scrape(server), "taskdash_sse_clients") == 1)
        after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("taskdash_messages_total", topic="taskRegister", outcome="ok") >= 3
    assert moved("taskdash_messages_total", topic="taskRegister", outcome="dead") == 2
    assert moved("taskdash_dead_letters_total", reason="invalid_json") == 1
    assert moved("taskdash_dead_letters_total", reason="missing_field") == 1
    assert moved("taskdash_requeues_total", topic="taskRegister") >= 1
    assert moved("taskdash_store_errors_total", kind="write") >= 1
    assert moved("taskdash_batch_size_count") >= 1
    assert moved("taskdash_store_write_seconds_count") >= 1
    assert value(after, "taskdash_nsqd_connections", topic="taskRegister") == 1
    assert value(after, "taskdash_services", state="online") == 1
    assert moved("taskdash_claims_total", action="claim") == 2
    assert moved("taskdash_claims_total", action="release") == 1
    assert moved("taskdash_claims_total", action="expire") >= 1
    assert moved("taskdash_claims_total", action="assign") == 1
    assert moved("taskdash_login_failures_total") >= 1
    assert moved("taskdash_login_throttled_total") >= 1
    assert value(after, "taskdash_sse_clients") == 1
    route = {"route": "/api/v1/tasks/{task_id}", "method": "GET", "status": "2xx"}
    assert moved("taskdash_http_request_duration_seconds_count", **route) >= 1
    claim = {"route": "/api/v1/tasks/{task_id}/claim", "method": "POST", "status": "2xx"}
    assert moved("taskdash_http_request_duration_seconds_count", **claim) == 2
    # Bounded labels: no raw task id in any route, no raw reason text.
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert not any(task_id in route for task_id in ids for route in routes), routes
    reasons = {dict(labels)["reason"] for name, labels in after if "dead_letters" in name}
    # The registry is the process's: other tests' dead letters count too, by kind only.
    kinds = {"max_attempts", "too_big", "invalid_json", "not_an_object", "missing_field"}
    assert reasons <= kinds | {"bad_field", "unknown_topic", "other"}, reasons


def test_several_apps_in_one_process_share_the_metrics(tmp_path: Path) -> None:
    from taskdash.app import create_app

    for n in range(3):
        create_app(make_settings(tmp_path / str(n)))  # no "Duplicated timeseries" error


def dashboard_metrics() -> set[str]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    assert exprs
    assert any(v["name"] == "instance" for v in board["templating"]["list"])
    names = set()
    for expr in exprs:
        names.update(re.findall(r"\b(taskdash_[a-z_]+)", expr))
    return names


def test_the_dashboard_queries_only_metrics_that_exist(nsq_server: LiveServer) -> None:
    exported = {name for name, _ in scrape(nsq_server)}
    for name in dashboard_metrics():
        assert name in exported, name
