"""GET /api/v1/stats/throughput, /people, /cycle-time over HTTP: numbers, roles, bad parameters."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.test_rest_api import add_users, assert_error
from tests.support import LiveServer, task_body, task_id_of, wait_until

HOUR_S = 3600


def publish_work(server: LiveServer) -> list[str]:
    """Three new tasks; alice claims and finishes the first, bob claims and releases the second."""
    bodies = [task_body(f"t{n}", created=1_600_000_000 + n) for n in range(3)]
    server.publish("taskRegister", bodies)
    ids = [task_id_of(body) for body in bodies]
    boss = server.login("boss")
    wait_until(lambda: boss.get(f"/api/v1/tasks/{ids[2]}").status_code == 200)
    alice, bob = server.login("alice"), server.login("bob")
    assert alice.post(f"/api/v1/tasks/{ids[0]}/claim").status_code == 200
    assert bob.post(f"/api/v1/tasks/{ids[1]}/claim").status_code == 200
    assert bob.post(f"/api/v1/tasks/{ids[1]}/release").status_code == 200
    server.publish("updateStatus", [{**task_body("t0", created=1_600_000_000), "Status": "已完成"}])
    wait_until(lambda: boss.get(f"/api/v1/tasks/{ids[0]}").json()["task"]["Status"] == "已完成")
    return ids


@pytest.fixture
def worked(server: LiveServer) -> LiveServer:
    add_users(
        server,
        ("boss", "manager", ""),
        ("alice", "annotator", "g1"),
        ("bob", "annotator", "g1"),
    )
    publish_work(server)
    return server


def test_throughput_counts_the_work_per_hour(worked: LiveServer) -> None:
    answer = worked.login("boss").get("/api/v1/stats/throughput")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    buckets = body["buckets"]
    assert body["bucket"] == "hour" and len(buckets) == 48
    assert [b["start"] for b in buckets] == [body["since"] + i * HOUR_S for i in range(48)]
    assert body["until"] == buckets[-1]["start"] + HOUR_S >= time.time()
    totals = {key: sum(b[key] for b in buckets) for key in ("created", "claimed", "finished")}
    assert totals == {"created": 3, "claimed": 2, "finished": 1}
    assert buckets[-1]["unclaimed"] == 2 and buckets[0]["unclaimed"] == 0
    days = worked.login("boss").get("/api/v1/stats/throughput?bucket=day").json()
    assert len(days["buckets"]) == 30 and days["buckets"][-1]["unclaimed"] == 2
    other = worked.login("boss").get("/api/v1/stats/throughput", params={"project": "nope"})
    assert sum(b["created"] for b in other.json()["buckets"]) == 0


def test_people_and_cycle_time_for_a_manager(worked: LiveServer) -> None:
    boss = worked.login("boss")
    people = boss.get("/api/v1/stats/people").json()
    rows = {row["user"]: row for row in people["people"]}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["finished"] == 1 and rows["alice"]["holding"] == 0
    assert rows["alice"]["median_claim_to_finish_s"] >= 0
    assert rows["bob"]["releases"] == 1 and rows["bob"]["median_claim_to_finish_s"] is None
    assert rows["bob"]["groups"] == ["g1"]
    assert people["groups"] == [
        {
            "group": "g1",
            "members": 2,
            "holding": 0,
            "finished": 1,
            "median_claim_to_finish_s": rows["alice"]["median_claim_to_finish_s"],
            "releases": 1,
            "expiries": 0,
        }
    ]
    cycle = boss.get("/api/v1/stats/cycle-time").json()
    (sat,) = cycle["types"]
    assert sat["type"] == "satEdit" and sat["count"] == 1
    assert sat["median_s"] == sat["p90_s"] == rows["alice"]["median_claim_to_finish_s"]
    edges = [b["upper_s"] for b in sat["histogram"]]
    assert edges == [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800, None]
    assert sat["histogram"][0]["count"] == 1


def test_an_annotator_sees_only_their_own_numbers(worked: LiveServer) -> None:
    bob = worked.login("bob")
    people = bob.get("/api/v1/stats/people").json()
    assert [row["user"] for row in people["people"]] == ["bob"] and people["groups"] == []
    assert "alice" not in bob.get("/api/v1/stats/people").text
    assert bob.get("/api/v1/stats/cycle-time").json()["types"] == []
    buckets = bob.get("/api/v1/stats/throughput").json()["buckets"]
    assert sum(b["claimed"] for b in buckets) == 1 and sum(b["finished"] for b in buckets) == 0
    assert buckets[-1]["unclaimed"] == 2  # the tasks of no group, which bob could claim


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/stats/throughput?since=abc",
        "/api/v1/stats/throughput?since=200&until=100",
        "/api/v1/stats/throughput?until=inf",
        "/api/v1/stats/throughput?since=nan",
        "/api/v1/stats/throughput?bucket=week",
        "/api/v1/stats/throughput?since=0&until=3600000",
        "/api/v1/stats/people?since=0&until=1e10",
        "/api/v1/stats/cycle-time?since=5&until=4",
    ],
)
def test_bad_parameters_answer_400(server: LiveServer, query: str) -> None:
    add_users(server, ("boss", "manager", ""))
    assert_error(server.login("boss").get(query), 400, 1000)


def test_the_statistics_need_a_session(server: LiveServer) -> None:
    for path in ("throughput", "people", "cycle-time"):
        assert_error(httpx.get(f"{server.url}/api/v1/stats/{path}"), 401, 1004)
