"""GET /api/v1/stats/projects: counts kept in the store equal a recount of the tasks, per role."""

from __future__ import annotations

from typing import Any

import pytest

from taskdash.actions.tasks import can_see
from taskdash.domain.models import UNCLAIMED, Role, Task, TaskQuery, User
from tests.api.test_rest_api import add_users, assert_error
from tests.support import LiveServer, run_on_store, task_body, task_id_of

USERS = (
    ("boss", "manager", ""),
    ("ann", "annotator", "g1"),
    ("bob", "annotator", "g2"),
    ("chk", "checker", "g2"),
)
BODIES = [
    task_body(f"{n:03d}", project=project, task_type=task_type, created=1_700_000_000 + n)
    for n, (project, task_type) in enumerate(
        [("p1", "satEdit")] * 5 + [("p1", "vidEdit")] * 3 + [("p2", "satEdit")] * 4
    )
]
IDS = [task_id_of(body) for body in BODIES]


def all_tasks(server: LiveServer) -> list[Task]:
    async def read(store: Any) -> list[Task]:
        return list(await store.tasks.find(TaskQuery(limit=1000)))

    tasks: list[Task] = run_on_store(server.settings, read)
    return tasks


def recount(tasks: list[Task], user: User) -> list[dict[str, Any]]:
    """What the answer must be, from every task and the list rules (tasks.can_see)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for task in tasks:
        if not can_see(user, task):
            continue
        entry = found.setdefault(
            (task.project_id, task.type),
            {
                "project": task.project_id,
                "type": task.type,
                "total": 0,
                "by_status": {},
                "unclaimed": 0,
                "unclaimed_oldest_at": None,
            },
        )
        entry["total"] += 1
        entry["by_status"][task.status] = entry["by_status"].get(task.status, 0) + 1
        claimable = user.role >= Role.MANAGER or task.group in ("", user.group)
        if task.status == UNCLAIMED and not task.user and claimable:
            entry["unclaimed"] += 1
            oldest = entry["unclaimed_oldest_at"]
            entry["unclaimed_oldest_at"] = float(
                task.time if oldest is None else min(oldest, task.time)
            )
    return [found[key] for key in sorted(found)]


def person(name: str) -> User:
    role, group = next((Role.parse(r), g) for n, r, g in USERS if n == name)
    return User(name, role, "", group=group)


@pytest.fixture
def busy(server: LiveServer) -> LiveServer:
    """Tasks of two projects and types in several states, groups, holders and checkers."""
    add_users(server, *USERS)
    server.publish("taskRegister", BODIES)
    server.publish("updateStatus", [{**BODIES[4], "Status": "已完成"}])
    boss = server.login("boss")
    for ids, change in (
        ([IDS[0], IDS[5]], {"group": "g1"}),
        ([IDS[1], IDS[9]], {"group": "g2"}),
        ([IDS[2]], {"checker": "chk"}),
        ([IDS[9]], {"checker": "chk"}),
    ):
        answer = boss.post("/api/v1/tasks/assign", json={"ids": ids, **change})
        assert answer.json()["assigned"] == len(ids), answer.text
    for name, task_id in (("ann", IDS[0]), ("ann", IDS[3]), ("bob", IDS[10])):
        assert server.login(name).post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    assert server.login("bob").post(f"/api/v1/tasks/{IDS[10]}/release").status_code == 200
    assert server.login("bob").post(f"/api/v1/tasks/{IDS[11]}/claim").status_code == 200
    return server


@pytest.mark.parametrize("name", ["boss", "ann", "bob", "chk"])
def test_projects_equal_a_recount_in_each_role(busy: LiveServer, name: str) -> None:
    answer = busy.login(name).get("/api/v1/stats/projects")
    assert answer.status_code == 200, answer.text
    assert answer.json() == recount(all_tasks(busy), person(name))


def test_managers_see_every_task_and_the_oldest_unclaimed(busy: LiveServer) -> None:
    stats = busy.login("boss").get("/api/v1/stats/projects").json()
    assert [(s["project"], s["type"], s["total"]) for s in stats] == [
        ("p1", "satEdit", 5),
        ("p1", "vidEdit", 3),
        ("p2", "satEdit", 4),
    ]
    first = stats[0]
    assert first["by_status"] == {"已领取": 2, "已完成": 1, UNCLAIMED: 2}
    assert (first["unclaimed"], first["unclaimed_oldest_at"]) == (2, 1_700_000_001.0)


def test_an_annotator_sees_only_their_slice(busy: LiveServer) -> None:
    stats = busy.login("bob").get("/api/v1/stats/projects").json()
    # bob: his claim of p2's last task, and the unclaimed tasks of no group or of g2.
    p2 = next(s for s in stats if s["project"] == "p2")
    assert p2["by_status"] == {"已领取": 1, UNCLAIMED: 3}
    assert "ann" not in str(stats)


def test_filters_by_project_and_type(busy: LiveServer) -> None:
    client = busy.login("boss")
    stats = client.get("/api/v1/stats/projects", params={"project": "p1", "type": "vidEdit"})
    assert [(s["project"], s["type"]) for s in stats.json()] == [("p1", "vidEdit")]
    assert client.get("/api/v1/stats/projects", params={"project": "none"}).json() == []


def test_bad_parameters_and_no_session(busy: LiveServer) -> None:
    client = busy.login("boss")
    assert_error(client.get("/api/v1/stats/projects", params={"project": "x" * 600}), 400, 1000)
    assert_error(busy.client().get("/api/v1/stats/projects"), 401, 1004)
