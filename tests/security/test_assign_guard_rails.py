"""Assign guard rails: an empty filter is not "every task", and a claim limit needs an override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.test_rest_api import add_users, publish_tasks
from tests.support import LiveServer, live_server_on, task_body


def unassigned(client: Any) -> int:
    items = client.get("/api/v1/tasks", params={"limit": 1000}).json()["items"]
    return sum(1 for task in items if not task["User"] and not task["Group"])


@pytest.mark.parametrize(
    "target",
    [
        {"filter": {}},
        {"filter": {"status": None, "type": None}},
        {"filter": {"status": "", "user": "", "group": "", "type": "", "project": ""}},
    ],
)
def test_a_filter_that_names_nothing_assigns_nothing(server: LiveServer, target: Any) -> None:
    add_users(server, ("mgr", "manager", ""))
    publish_tasks(server, *(task_body(f"{n:04d}") for n in range(3)))
    mgr = server.login("mgr")
    answer = mgr.post("/api/v1/tasks/assign", json={**target, "group": "g1"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errid"] == 1000 and "all: true" in answer.json()["detail"]
    assert unassigned(mgr) == 3


def test_every_task_takes_an_explicit_all(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager", ""))
    publish_tasks(server, *(task_body(f"{n:04d}") for n in range(3)))
    mgr = server.login("mgr")
    answer = mgr.post("/api/v1/tasks/assign", json={"all": True, "group": "g1"})
    assert answer.json() == {"assigned": 3, "failed": {}}
    assert unassigned(mgr) == 0
    both = mgr.post("/api/v1/tasks/assign", json={"all": True, "ids": [], "group": "g2"})
    assert both.status_code == 400


def history_details(client: Any, task_id: str) -> list[str]:
    return [e["detail"] for e in client.get(f"/api/v1/tasks/{task_id}").json()["history"]]


@pytest.mark.parametrize("store", ["sqlite", "mongo"])
def test_assigning_beyond_the_claim_limit_needs_an_override(
    tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    with live_server_on(store, request, tmp_path, max_claims_per_user=2) as server:
        add_users(server, ("mgr", "manager", ""), ("ann", "annotator", "team"))
        ids = publish_tasks(server, *(task_body(f"{n:04d}", created=n) for n in range(4)))
        mgr = server.login("mgr")

        refused = mgr.post("/api/v1/tasks/assign", json={"ids": ids[:3], "user": "ann"})
        assert refused.status_code == 409 and refused.json()["errid"] == 1008, refused.text
        assert "override_limit" in refused.json()["detail"]
        spread = {"ids": ids[:3], "group": "team", "strategy": "round_robin"}
        assert mgr.post("/api/v1/tasks/assign", json=spread).json()["errid"] == 1008
        compat = {"operation": "TaskAssign", "IDs": ids[:3], "user": "ann"}
        assert mgr.post("/rpost/task", json=compat).json()["errid"] == 1008
        assert mgr.get("/api/v1/tasks", params={"user": "ann"}).json()["items"] == []

        # Up to the limit needs nothing; beyond it, the override is recorded in the history.
        ok = mgr.post("/api/v1/tasks/assign", json={"ids": ids[:2], "user": "ann"})
        assert ok.json() == {"assigned": 2, "failed": {}}
        assert history_details(mgr, ids[0])[0] == "user=ann"
        forced = {"ids": [ids[2]], "user": "ann", "override_limit": True}
        assert mgr.post("/api/v1/tasks/assign", json=forced).json()["assigned"] == 1
        assert history_details(mgr, ids[2])[0] == "user=ann, over the claim limit"
        compat = {"operation": "TaskAssign", "ID": ids[3], "user": "ann", "override_limit": True}
        assert mgr.post("/rpost/task", json=compat).json() == "success"
        assert history_details(mgr, ids[3])[0] == "user=ann, over the claim limit"
        assert len(mgr.get("/api/v1/tasks", params={"user": "ann"}).json()["items"]) == 4
