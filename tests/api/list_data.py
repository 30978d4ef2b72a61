"""A small world of tasks for the list, count, sort and export tests: awkward text included."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_rest_api import add_users, publish_tasks
from tests.support import LiveServer, task_body

# Text a CSV must quote or guard: commas, quotes, line breaks, formulas, Chinese.
AWKWARD = ('a,b "quoted"', "line one\nline two\r\nthree", "=1+1", "+x", "-y", "@z", "\tt", "普通")
STATUSES = ("", "编辑中", "已完成", "待检查")


def fill(server: LiveServer, n: int = 30) -> list[str]:
    """`n` tasks (tied CreateTimes, four statuses, awkward EditInfo), some held by
    `ann` and `bob`, one checked by `chk`; users mgr (manager), ann, bob (annotators), chk."""
    add_users(
        server,
        ("mgr", "manager", ""),
        ("ann", "annotator", ""),
        ("bob", "annotator", "g1"),
        ("chk", "checker", ""),
    )
    bodies = [
        task_body(
            f"t{i:04d}",
            project=f"proj-{i % 3}",
            task_type=("satEdit", "vidEdit")[i % 2],
            created=1_700_000_000 + i // 3,
            EditInfo=AWKWARD[i % len(AWKWARD)],
        )
        for i in range(n)
    ]
    ids = publish_tasks(server, *bodies)
    updates = [{**b, "Status": STATUSES[i % 4]} for i, b in enumerate(bodies) if i % 4]
    server.publish("updateStatus", updates)
    mgr = server.login("mgr")
    for index, user in ((1, "ann"), (2, "bob"), (5, "ann"), (7, "bob")):
        assign(mgr, ids[index], user=user)
    assign(mgr, ids[2], checker="chk")
    assign(mgr, ids[8], group="g1")
    return ids


def assign(client: httpx.Client, task_id: str, **change: Any) -> None:
    answer = client.post("/api/v1/tasks/assign", json={"ids": [task_id], **change})
    assert answer.status_code == 200 and answer.json()["assigned"] == 1, answer.text


def every_page(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every task of a listing, following next_cursor page by page."""
    tasks: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        answer = client.get(
            "/api/v1/tasks", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert answer.status_code == 200, answer.text
        tasks += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return tasks
    raise AssertionError("pagination did not end")
