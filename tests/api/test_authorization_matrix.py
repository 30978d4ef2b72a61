"""Who may do what: every operation × every role, against SPEC §1, §6, §7 and §8.

Roles: annotator < checker < manager < admin. `user` may name someone else only for managers;
annotators see their own and unclaimed tasks (checkers also those they check); release by the
holder or a manager; assign needs a manager; users are listed by managers and created by admins;
dead letters are for admins.

One server serves the whole module (logins cost an argon2 verification each); every case works
on tasks it publishes itself, so cases do not depend on one another or on their order.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import PASSWORD, LiveServer, make_settings, task_body, task_id_of

OK = "ok"
NO_LOGIN = 1004
FORBIDDEN = 1005
HIDDEN = 1006  # a task the caller may not see answers exactly like a missing one
Outcome = str | int

ROLES = ("anonymous", "annotator", "checker", "manager", "admin")
ACCOUNT_OF_ROLE = {"annotator": "ann", "checker": "chk", "manager": "mgr", "admin": "adm"}
OTHER = "bob"  # an annotator who holds the "other" tasks

# fmt: off
# operation                                    anonymous annotator  checker    manager    admin
EXPECTED: dict[str, tuple[Outcome, ...]] = {
    "compat GetTasksNoUser":                  (NO_LOGIN, OK,        OK,        OK,        OK),
    "compat GetTasksByUser self":             (NO_LOGIN, OK,        OK,        OK,        OK),
    "compat GetTasksByUser other":            (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "compat GetTasksByStatus":                (NO_LOGIN, OK,        OK,        OK,        OK),
    "compat TaskBind self":                   (NO_LOGIN, OK,        OK,        OK,        OK),
    "compat TaskBind for other user":         (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "compat TaskAssign":                      (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "compat TaskRelease own":                 (NO_LOGIN, OK,        OK,        OK,        OK),
    "compat TaskRelease other":               (NO_LOGIN, HIDDEN,    HIDDEN,    OK,        OK),
    "GET /api/v1/tasks":                      (NO_LOGIN, OK,        OK,        OK,        OK),
    "GET /api/v1/tasks?user=other":           (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "GET /api/v1/tasks/{id} own":             (NO_LOGIN, OK,        OK,        OK,        OK),
    "GET /api/v1/tasks/{id} other":           (NO_LOGIN, HIDDEN,    HIDDEN,    OK,        OK),
    "POST /api/v1/tasks/{id}/claim":          (NO_LOGIN, OK,        OK,        OK,        OK),
    "POST /api/v1/tasks/claim-next":          (NO_LOGIN, OK,        OK,        OK,        OK),
    "POST /api/v1/tasks/{id}/release own":    (NO_LOGIN, OK,        OK,        OK,        OK),
    "POST /api/v1/tasks/{id}/release other":  (NO_LOGIN, HIDDEN,    HIDDEN,    OK,        OK),
    "POST /api/v1/tasks/assign":              (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "POST /api/v1/tasks/assign/plan":         (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "GET /api/v1/settings/ui":                (NO_LOGIN, OK,        OK,        OK,        OK),
    "GET /api/v1/services":                   (NO_LOGIN, OK,        OK,        OK,        OK),
    "GET /api/v1/stats/projects":             (NO_LOGIN, OK,        OK,        OK,        OK),
    "GET /api/v1/dead-letters":               (NO_LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "GET /api/v1/users":                      (NO_LOGIN, FORBIDDEN, FORBIDDEN, OK,        OK),
    "POST /api/v1/users":                     (NO_LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
}

# Which of a role's task list entries it may see (GET /api/v1/tasks and task detail).
#   own: held by the caller; other: held by bob; unclaimed: nobody's; checked: bob's, checked
#   by the caller.
# role          own    other  unclaimed  checked
VISIBLE: dict[str, tuple[bool, bool, bool, bool]] = {
    "annotator": (True,  False, True,      False),
    "checker":   (True,  False, True,      True),
    "manager":   (True,  True,  True,      True),
    "admin":     (True,  True,  True,      True),
}
# fmt: on

HTTP_STATUS_OF = {NO_LOGIN: 401, FORBIDDEN: 403, HIDDEN: 404}


@dataclass
class World:
    """The module's server, a client per role (anonymous: no session) and a setup admin."""

    server: LiveServer
    clients: dict[str, httpx.Client]
    boss: httpx.Client
    serial: Iterator[int] = field(default_factory=itertools.count)

    def name_of(self, role: str) -> str:
        """The account acting as `role`; anonymous callers have no tasks, so bob stands in."""
        return ACCOUNT_OF_ROLE.get(role, OTHER)

    def new_task(self, *, project: str = "matrix") -> str:
        n = next(self.serial)
        body = task_body(f"m{n:05d}", project=project, created=1_600_000_000 + n)
        self.server.publish("taskRegister", [body])
        return task_id_of(body)

    def task_held_by(self, name: str, *, project: str = "matrix", checker: str = "") -> str:
        task_id = self.new_task(project=project)
        params = {"operation": "TaskAssign", "ID": task_id, "user": name}
        if checker:
            params["checker"] = checker
        assert compat(self.boss, **params).json() == "success"
        return task_id


def compat(client: httpx.Client, **params: str) -> httpx.Response:
    return client.post("/rpost/task", json=params)


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One server per store for the module (the matrix is the same on both)."""
    tmp_path: Path = tmp_path_factory.mktemp("matrix")
    overrides: dict[str, object] = {}
    if request.param == "mongo":
        overrides["store_url"] = request.getfixturevalue("ferretdb").url(
            f"matrix{uuid.uuid4().hex}"
        )
    # No claim limit: the module's accounts claim many tasks between them.
    server = LiveServer(make_settings(tmp_path, max_claims_per_user=0, **overrides)).start()
    try:
        for role, name in ACCOUNT_OF_ROLE.items():
            server.add_user(name, role)
        server.add_user(OTHER)
        server.add_user("boss", "admin")
        clients = {role: server.login(name) for role, name in ACCOUNT_OF_ROLE.items()}
        clients["anonymous"] = server.client()
        yield World(server=server, clients=clients, boss=server.login("boss"))
    finally:
        server.stop()


Operation = Callable[[World, str, httpx.Client], httpx.Response]


def _compat_get_no_user(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="GetTasksNoUser")


def _compat_by_user_self(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="GetTasksByUser", user=w.name_of(role))


def _compat_by_user_other(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="GetTasksByUser", user=OTHER)


def _compat_by_status(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="GetTasksByStatus", status="已领取")


def _compat_bind_self(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="TaskBind", ID=w.new_task())


def _compat_bind_for_other(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="TaskBind", ID=w.new_task(), user=OTHER)


def _compat_assign(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="TaskAssign", ID=w.new_task(), user=OTHER)


def _compat_release_own(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="TaskRelease", ID=w.task_held_by(w.name_of(role)))


def _compat_release_other(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return compat(c, operation="TaskRelease", ID=w.task_held_by(OTHER))


def _list_tasks(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/tasks")


def _list_tasks_of_other(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/tasks", params={"user": OTHER})


def _detail_own(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get(f"/api/v1/tasks/{w.task_held_by(w.name_of(role))}")


def _detail_other(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get(f"/api/v1/tasks/{w.task_held_by(OTHER)}")


def _claim(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.post(f"/api/v1/tasks/{w.new_task()}/claim")


def _claim_next(w: World, role: str, c: httpx.Client) -> httpx.Response:
    w.new_task()
    return c.post("/api/v1/tasks/claim-next", json={})


def _release_own(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.post(f"/api/v1/tasks/{w.task_held_by(w.name_of(role))}/release")


def _release_other(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.post(f"/api/v1/tasks/{w.task_held_by(OTHER)}/release")


def _assign(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.post("/api/v1/tasks/assign", json={"ids": [w.new_task()], "user": OTHER})


def _assign_plan(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.post("/api/v1/tasks/assign/plan", json={"ids": [w.new_task()], "user": OTHER})


def _ui_settings(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/settings/ui")


def _services(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/services")


def _stats_projects(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/stats/projects")


def _dead_letters(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/dead-letters")


def _list_users(w: World, role: str, c: httpx.Client) -> httpx.Response:
    return c.get("/api/v1/users")


def _create_user(w: World, role: str, c: httpx.Client) -> httpx.Response:
    name = f"new{next(w.serial)}"
    return c.post("/api/v1/users", json={"name": name, "role": "annotator", "password": PASSWORD})


OPERATIONS: dict[str, Operation] = {
    "compat GetTasksNoUser": _compat_get_no_user,
    "compat GetTasksByUser self": _compat_by_user_self,
    "compat GetTasksByUser other": _compat_by_user_other,
    "compat GetTasksByStatus": _compat_by_status,
    "compat TaskBind self": _compat_bind_self,
    "compat TaskBind for other user": _compat_bind_for_other,
    "compat TaskAssign": _compat_assign,
    "compat TaskRelease own": _compat_release_own,
    "compat TaskRelease other": _compat_release_other,
    "GET /api/v1/tasks": _list_tasks,
    "GET /api/v1/tasks?user=other": _list_tasks_of_other,
    "GET /api/v1/tasks/{id} own": _detail_own,
    "GET /api/v1/tasks/{id} other": _detail_other,
    "POST /api/v1/tasks/{id}/claim": _claim,
    "POST /api/v1/tasks/claim-next": _claim_next,
    "POST /api/v1/tasks/{id}/release own": _release_own,
    "POST /api/v1/tasks/{id}/release other": _release_other,
    "POST /api/v1/tasks/assign": _assign,
    "POST /api/v1/tasks/assign/plan": _assign_plan,
    "GET /api/v1/settings/ui": _ui_settings,
    "GET /api/v1/services": _services,
    "GET /api/v1/stats/projects": _stats_projects,
    "GET /api/v1/dead-letters": _dead_letters,
    "GET /api/v1/users": _list_users,
    "POST /api/v1/users": _create_user,
}


def compat_outcome(answer: httpx.Response) -> Outcome:
    """The seed's answers: always HTTP 200; "success", a task array, or {"errid","errmsg"}."""
    assert answer.status_code == 200, answer.text
    body = answer.json()
    if body == "success" or isinstance(body, list):
        return OK
    assert set(body) >= {"errid", "errmsg"}, body
    return int(body["errid"])


def rest_outcome(answer: httpx.Response) -> Outcome:
    """REST answers: 2xx, or the errid with its HTTP status (401 not logged in, 403 forbidden)."""
    if answer.is_success:
        return OK
    body = answer.json()
    errid = int(body["errid"])
    assert answer.status_code == HTTP_STATUS_OF.get(errid, answer.status_code), answer.text
    assert isinstance(body["errmsg"], str)
    return errid


def test_the_matrix_covers_every_operation() -> None:
    assert set(EXPECTED) == set(OPERATIONS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", list(EXPECTED))
def test_authorization(world: World, operation: str, role: str) -> None:
    expected = EXPECTED[operation][ROLES.index(role)]
    answer = OPERATIONS[operation](world, role, world.clients[role])
    if operation.startswith("compat "):
        assert compat_outcome(answer) == expected, answer.text
    else:
        assert rest_outcome(answer) == expected, answer.text


@pytest.mark.parametrize("role", list(VISIBLE))
def test_visibility_of_tasks(world: World, role: str) -> None:
    me = world.name_of(role)
    project = f"visibility-{role}"
    tasks = {
        "own": world.task_held_by(me, project=project),
        "other": world.task_held_by(OTHER, project=project),
        "unclaimed": world.new_task(project=project),
        "checked": world.task_held_by(OTHER, project=project, checker=me),
    }
    expected = {kind for kind, seen in zip(tasks, VISIBLE[role], strict=True) if seen}
    client = world.clients[role]

    listed = client.get("/api/v1/tasks", params={"project": project}).json()["items"]
    assert {kind for kind, task_id in tasks.items() if task_id in {t["ID"] for t in listed}} == (
        expected
    )

    details = {kind: client.get(f"/api/v1/tasks/{task_id}") for kind, task_id in tasks.items()}
    assert {kind for kind, answer in details.items() if answer.status_code == 200} == expected
    assert {answer.status_code for kind, answer in details.items() if kind not in expected} <= {404}


def test_an_annotator_release_of_someone_elses_task_changes_nothing(world: World) -> None:
    task_id = world.task_held_by(OTHER)
    compat(world.clients["annotator"], operation="TaskRelease", ID=task_id)
    (task,) = [
        t
        for t in compat(world.boss, operation="GetTasksByUser", user=OTHER).json()
        if t["ID"] == task_id
    ]
    assert (task["User"], task["Status"]) == (OTHER, "已领取")


def test_a_manager_binding_for_another_user_gives_them_the_task(world: World) -> None:
    task_id = world.new_task()
    answer = compat(world.clients["manager"], operation="TaskBind", ID=task_id, user=OTHER)
    assert answer.json() == "success"
    held = compat(world.boss, operation="GetTasksByUser", user=OTHER).json()
    assert task_id in {t["ID"] for t in held}
