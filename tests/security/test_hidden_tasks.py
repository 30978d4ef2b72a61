"""A task the caller may not see answers like a missing one; a refused claim names no one."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_rest_api import add_users, publish_tasks
from tests.support import LiveServer, task_body

MISSING = "no-such-task"


def answer_of(response: httpx.Response, task_id: str) -> tuple[int, Any]:
    """Status and body, with the asked-for ID written as MISSING (a missing task's answer
    names the ID it was asked for)."""
    return response.status_code, response.text.replace(task_id, MISSING)


def test_a_hidden_task_answers_like_a_missing_one_everywhere(server: LiveServer) -> None:
    add_users(
        server,
        ("mgr", "manager", ""),
        ("ga", "annotator", "groupA"),
        ("gb", "annotator", "groupB"),
        ("chk", "checker", "groupB"),
    )
    group_task, held_task, finished_task = publish_tasks(
        server, task_body("0001"), task_body("0002"), task_body("0003")
    )
    mgr = server.login("mgr")
    for change in ({"ids": [group_task], "group": "groupA"}, {"ids": [held_task], "user": "ga"}):
        assert mgr.post("/api/v1/tasks/assign", json=change).is_success
    server.publish("updateStatus", [task_body("0003", status="已完成")])

    for name in ("gb", "chk"):
        client = server.login(name)
        for task_id in (group_task, held_task, finished_task):
            asks = {
                "detail": lambda c, i: c.get(f"/api/v1/tasks/{i}"),
                "release": lambda c, i: c.post(f"/api/v1/tasks/{i}/release"),
                "compat release": lambda c, i: c.post(
                    "/rpost/task", json={"operation": "TaskRelease", "ID": i}
                ),
            }
            if task_id != held_task:  # a taken task answers 1007 (below)
                asks["claim"] = lambda c, i: c.post(f"/api/v1/tasks/{i}/claim")
                asks["compat claim"] = lambda c, i: c.post(
                    "/rpost/task", json={"operation": "TaskBind", "ID": i}
                )
            for what, ask in asks.items():
                hidden = answer_of(ask(client, task_id), task_id)
                missing = answer_of(ask(client, MISSING), MISSING)
                assert hidden == missing, (name, what, task_id)
                assert "1006" in hidden[1], (name, what, hidden)

    # Nothing changed on the way.
    tasks = {t["ID"]: t for t in mgr.get("/api/v1/tasks").json()["items"]}
    assert (tasks[group_task]["User"], tasks[group_task]["Group"]) == ("", "groupA")
    assert (tasks[held_task]["User"], tasks[held_task]["Status"]) == ("ga", "已领取")


def test_a_refused_claim_does_not_name_the_holder(server: LiveServer) -> None:
    add_users(server, ("holder-xyz", "annotator", ""), ("late", "annotator", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    assert server.login("holder-xyz").post(f"/api/v1/tasks/{task_id}/claim").is_success
    late = server.login("late")
    answers = [
        late.post(f"/api/v1/tasks/{task_id}/claim"),
        late.post("/rpost/task", json={"operation": "TaskBind", "ID": task_id}),
    ]
    assert answers[0].status_code == 409 and answers[0].json()["errid"] == 1007
    assert answers[1].json()["errid"] == 1007
    for answer in answers:
        assert "holder-xyz" not in answer.text


def test_managers_still_learn_why_a_claim_is_refused(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    mgr = server.login("mgr")
    assert mgr.post("/api/v1/tasks/assign", json={"ids": [task_id], "group": "groupA"}).is_success
    refused = mgr.post(f"/api/v1/tasks/{task_id}/claim")
    assert refused.status_code == 409
    assert refused.json() == {
        "errid": 1007,
        "errmsg": "任务不可领取",
        "detail": "task belongs to another group",
    }
