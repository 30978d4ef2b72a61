"""A dry run of an assignment (POST /api/v1/tasks/assign/plan) and the front end's settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_rest_api import add_users, assert_error, listed, publish_tasks, task_of
from tests.support import LiveServer, live_server_on, task_body

PLAN = "/api/v1/tasks/assign/plan"
FINISHED = ["已完成", "已交付"]


def plan_of(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post(PLAN, json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def assign(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/tasks/assign", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def users_of(client: httpx.Client, task_ids: list[str]) -> dict[str, str]:
    return {task_id: task_of(client, task_id)["User"] for task_id in task_ids}


def shares(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {share["user"]: share["task_ids"] for share in plan["users"]}


def test_the_plan_is_what_assign_then_does_and_nothing_is_written(server: LiveServer) -> None:
    add_users(
        server,
        ("mgr", "manager", ""),
        ("u1", "annotator", "team"),
        ("u2", "annotator", "team"),
        ("u3", "annotator", "team"),
        ("chk", "checker", ""),
    )
    ids = publish_tasks(server, *[task_body(f"{n:04d}", created=100 + n) for n in range(8)])
    mgr = server.login("mgr")
    assert assign(mgr, ids=ids[:2], user="u1")["assigned"] == 2  # u1 holds 2 now
    rest = ids[2:]

    body = {
        "filter": {"status": "待领取"},
        "group": "team",
        "strategy": "least_loaded",
        "checker": "chk",
    }
    plan = plan_of(mgr, **body)
    assert plan["tasks"] == len(rest)
    assert [(s["user"], s["tasks"], s["held"]) for s in plan["users"]] == [
        ("u1", 1, 2),
        ("u2", 3, 0),
        ("u3", 2, 0),
    ]
    assert (plan["checker"], plan["group"], plan["over_limit"]) == ("chk", "team", [])
    assert users_of(mgr, rest) == dict.fromkeys(rest, "")  # a dry run writes nothing
    assert listed(mgr, checker="chk") == []

    assert assign(mgr, **body) == {"assigned": len(rest), "failed": {}}
    done = users_of(mgr, rest)
    assert {user: [t for t in rest if done[t] == user] for user in done.values()} == {
        user: task_ids for user, task_ids in shares(plan).items()
    }
    assert listed(mgr, checker="chk") == rest

    # Round robin over listed tasks, and one user for all: the same agreement.
    plan = plan_of(mgr, ids=rest, group="team", strategy="round_robin")
    assert [s["tasks"] for s in plan["users"]] == [2, 2, 2]
    assign(mgr, ids=rest, group="team", strategy="round_robin")
    assert {t: u for u, ts in shares(plan).items() for t in ts} == users_of(mgr, rest)

    plan = plan_of(mgr, ids=rest, user="U2")  # names are matched without regard to case
    assert [(s["user"], s["tasks"], s["task_ids"]) for s in plan["users"]] == [("u2", 6, rest)]
    assert plan_of(mgr, ids=rest, group="")["users"] == []  # the user is left as it is


def test_a_dry_run_needs_a_manager_and_a_clear_body(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager", ""), ("smq", "annotator", "team"), ("chk", "checker", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    body = {"ids": [task_id], "user": "smq"}
    assert_error(server.client().post(PLAN, json=body), 401, 1004)
    for name in ("smq", "chk"):
        assert_error(server.login(name).post(PLAN, json=body), 403, 1005)
    mgr = server.login("mgr")
    for bad in (
        {"user": "smq"},  # neither ids nor filter
        {"ids": [task_id]},  # nothing to set
        {"ids": [task_id], "user": "nobody"},
        {"ids": [task_id], "group": "empty", "strategy": "least_loaded"},
        {"filter": {}, "user": "smq"},  # a filter naming nothing
    ):
        assert_error(mgr.post(PLAN, json=bad), 400, 1000)
    assert task_of(mgr, task_id)["User"] == ""


@pytest.fixture(params=["sqlite", "mongo"])
def strict_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server with two finished statuses and a claim limit of 2, on both stores."""
    with live_server_on(
        request.param, request, tmp_path, finished_statuses=FINISHED, max_claims_per_user=2
    ) as live:
        yield live


def test_the_plan_counts_load_by_the_servers_finished_statuses(strict_server: LiveServer) -> None:
    server = strict_server
    add_users(server, ("mgr", "manager", ""), ("u1", "annotator", "team"), ("u2", "annotator", ""))
    done, *todo = publish_tasks(server, *[task_body(f"{n:04d}", created=100 + n) for n in range(4)])
    mgr = server.login("mgr")
    assign(mgr, ids=[done], user="u1")
    server.publish("updateStatus", [task_body("0000", status="已交付", created=100)])
    assert task_of(mgr, done)["Status"] == "已交付"

    # 已交付 is finished here, so u1 holds nothing; three tasks take them over the limit.
    plan = plan_of(mgr, ids=todo, group="team", strategy="least_loaded")
    assert [(s["user"], s["tasks"], s["held"]) for s in plan["users"]] == [("u1", 3, 0)]
    assert plan["over_limit"] == ["u1"]
    assert_error(mgr.post("/api/v1/tasks/assign", json={"ids": todo, "user": "u1"}), 409, 1008)
    assert plan_of(mgr, ids=todo[:2], user="u1")["over_limit"] == []

    answer = server.login("u2").get("/api/v1/settings/ui")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "finished_statuses": FINISHED,
        "max_claims_per_user": 2,
        "max_page": 1000,
        "max_bulk_assign": 10_000,
    }
    assert_error(server.client().get("/api/v1/settings/ui"), 401, 1004)
