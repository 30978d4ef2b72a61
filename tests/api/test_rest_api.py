"""The REST API (/api/v1), the probes, HTTP ingest and the security rules of SPEC §7.2 and §8."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskdash.actions import accounts
from taskdash.domain.models import Role, User
from taskdash.sample_data import SEED_TASKS
from tests.support import (
    PASSWORD,
    SERVICE_URL,
    LiveServer,
    ThreadedApp,
    empty_metadata,
    make_settings,
    run_on_store,
    task_body,
    task_id_of,
    wait_until,
)

ERRMSG = {
    1000: "请求格式不正确",
    1003: "用户名或密码错误",
    1004: "未登录或会话已过期",
    1005: "权限不足",
    1006: "任务不存在",
    1007: "任务不可领取",
    1008: "已达到领取上限",
    1009: "没有可领取的任务",
    1010: "请求过于频繁",
}
FOREIGN_ORIGIN = "http://evil.example"


# --- helpers ------------------------------------------------------------------------------


@functools.cache
def password_hash() -> str:
    return asyncio.run(accounts.hash_password(PASSWORD))


def add_users(server: LiveServer, *users: tuple[str, str, str]) -> None:
    """Create (name, role, group) accounts with PASSWORD, hashing it once (argon2 is slow)."""
    hashed = password_hash()

    async def add(store: Any) -> None:
        for name, role, group in users:
            user = User(name, Role.parse(role), hashed, group=group, created_at=time.time())
            await store.accounts.add_user(user)

    run_on_store(server.settings, add)


@contextmanager
def live_server(tmp_path: Path, **overrides: Any) -> Iterator[LiveServer]:
    """A server with non-default settings, stopped at the end of the block."""
    server = LiveServer(make_settings(tmp_path, **overrides)).start()
    try:
        yield server
    finally:
        server.stop()


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/v1/login", json={"username": name, "password": password})


def assert_error(answer: httpx.Response, status: int, errid: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["errid"] == errid, body
    assert body["errmsg"] == ERRMSG.get(errid, body["errmsg"])
    return body


def publish_tasks(server: LiveServer, *bodies: dict[str, Any]) -> list[str]:
    server.publish("taskRegister", bodies)
    return [task_id_of(b) for b in bodies]


def listed(client: httpx.Client, **params: Any) -> list[str]:
    answer = client.get("/api/v1/tasks", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    return [t["ID"] for t in answer.json()["items"]]


def walk(client: httpx.Client, **params: Any) -> list[str]:
    """Every task ID of a listing, following next_cursor page by page."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/tasks", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= params["limit"]
        seen += [t["ID"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


def detail(client: httpx.Client, task_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def task_of(client: httpx.Client, task_id: str) -> dict[str, Any]:
    task: dict[str, Any] = detail(client, task_id)["task"]
    return task


def order_by_time(bodies: list[dict[str, Any]]) -> list[str]:
    return [task_id_of(b) for b in sorted(bodies, key=lambda b: (b["CreateTime"], task_id_of(b)))]


# --- session: login, logout, me -----------------------------------------------------------


def test_login_sets_an_httponly_lax_session_cookie_and_nothing_else(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", "team-a"))
    client = server.client()
    answer = login(client, "smq")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "name": "smq",
        "role": "annotator",
        "group": "team-a",
        "disabled": False,
        "lang": "zh",
    }
    (set_cookie,) = answer.headers.get_list("set-cookie")
    attributes = [part.strip().lower() for part in set_cookie.split(";")]
    assert attributes[0].startswith("taskdash_session=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert list(client.cookies) == ["taskdash_session"]
    token = client.cookies["taskdash_session"]
    assert len(token) >= 32
    assert PASSWORD not in set_cookie and "smq" not in token
    # The seed's front end kept the password in a cookie; TaskDash never sets one.
    compat = server.client()
    answer = compat.post(
        "/rpost/task", json={"operation": "userLogin", "username": "smq", "password": PASSWORD}
    )
    assert answer.json() == "success"
    (set_cookie,) = answer.headers.get_list("set-cookie")
    assert "httponly" in set_cookie.lower() and "samesite=lax" in set_cookie.lower()
    assert list(compat.cookies) == ["taskdash_session"]
    assert compat.cookies["taskdash_session"] != token


def test_me_answers_the_user_and_remembers_the_language(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    smq = server.login("smq")
    assert smq.get("/api/v1/me").json()["lang"] == "zh"
    answer = smq.patch("/api/v1/me", json={"lang": "en"})
    assert answer.status_code == 200 and answer.json()["lang"] == "en"
    assert smq.get("/api/v1/me").json() == {
        "name": "smq",
        "role": "annotator",
        "group": "",
        "disabled": False,
        "lang": "en",
    }
    assert_error(smq.patch("/api/v1/me", json={"lang": "fr"}), 400, 1000)
    assert_error(server.client().patch("/api/v1/me", json={"lang": "en"}), 401, 1004)
    assert_error(server.client().get("/api/v1/me"), 401, 1004)


def test_logout_ends_the_session_on_the_server(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    smq = server.login("smq")
    token = smq.cookies["taskdash_session"]
    answer = smq.post("/api/v1/logout")
    assert answer.status_code == 204
    assert "taskdash_session" not in smq.cookies
    # Replaying the old cookie (as a copy an attacker kept would) no longer works.
    replay = server.client(cookies={"taskdash_session": token})
    assert_error(replay.get("/api/v1/me"), 401, 1004)
    assert_error(replay.get("/api/v1/tasks"), 401, 1004)
    assert server.client().post("/api/v1/logout").status_code == 204


def test_unknown_users_and_wrong_passwords_get_the_same_answer(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    client = server.client()
    wrong_password = login(client, "smq", "not the password")
    unknown_user = login(client, "nobody", "not the password")
    assert_error(wrong_password, 401, 1003)
    assert (wrong_password.status_code, wrong_password.json()) == (
        unknown_user.status_code,
        unknown_user.json(),
    )
    assert "set-cookie" not in wrong_password.headers
    compat = [
        client.post(
            "/rpost/task",
            json={"operation": "userLogin", "username": name, "password": "not the password"},
        )
        for name in ("smq", "nobody")
    ]
    assert compat[0].status_code == compat[1].status_code == 200
    assert compat[0].json() == compat[1].json()
    assert compat[0].json()["errid"] == 1003


def test_a_hash_with_older_parameters_still_logs_in_and_is_replaced(server: LiveServer) -> None:
    from argon2 import PasswordHasher

    # The library's default profile (64 MiB), as older TaskDash versions stored it; and a
    # password shorter than today's rule, which must not stop the login or the rehash.
    short = "old-pw"
    old = PasswordHasher().hash(short)
    run_on_store(
        server.settings,
        lambda store: store.accounts.add_user(User("old", Role.ANNOTATOR, old, created_at=0.0)),
    )
    assert login(server.client(), "old", short).status_code == 200
    user = run_on_store(server.settings, lambda store: store.accounts.get_user("old"))
    assert user.password_hash != old
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(server.client(), "old", short).status_code == 200
    assert_error(login(server.client(), "old", "wrong-pw"), 401, 1003)


def test_failed_logins_are_throttled_per_user(tmp_path: Path) -> None:
    with live_server(tmp_path, login_max_failures_per_user=2) as server:
        add_users(server, ("smq", "annotator", ""), ("bob", "annotator", ""))
        client = server.client()
        for _ in range(2):
            assert_error(login(client, "smq", "guess"), 401, 1003)
        throttled = login(client, "smq")  # even the right password now waits
        assert_error(throttled, 429, 1010)
        assert int(throttled.headers["retry-after"]) > 0
        compat = client.post(
            "/rpost/task",
            json={"operation": "userLogin", "username": "smq", "password": PASSWORD},
        )
        assert compat.status_code == 200 and compat.json()["errid"] == 1010
        assert "taskdash_session" not in client.cookies
        # Another user on the same address is not affected.
        assert login(server.client(), "bob").status_code == 200
        # Unknown names are throttled just like real ones (no enumeration through 1010 either).
        for _ in range(2):
            assert_error(login(client, "nobody", "guess"), 401, 1003)
        assert_error(login(client, "nobody", "guess"), 429, 1010)


def test_failed_logins_are_throttled_per_address(tmp_path: Path) -> None:
    with live_server(
        tmp_path, login_max_failures_per_address=2, login_max_failures_per_user=100
    ) as server:
        add_users(server, ("smq", "annotator", ""))
        # A second loopback address stands for another machine.
        other_machine = server.client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        for name in ("ann", "bob"):
            assert_error(login(other_machine, name, "guess"), 401, 1003)
        assert_error(login(other_machine, "smq"), 429, 1010)
        assert login(server.client(), "smq").status_code == 200


def test_a_foreign_origin_cannot_change_state(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    smq = server.login("smq")
    foreign = {"Origin": FOREIGN_ORIGIN}

    assert_error(smq.post(f"/api/v1/tasks/{task_id}/claim", headers=foreign), 403, 1005)
    assert_error(smq.post("/api/v1/tasks/claim-next", headers=foreign), 403, 1005)
    assert_error(smq.patch("/api/v1/me", json={"lang": "en"}, headers=foreign), 403, 1005)
    assert_error(smq.post("/api/v1/logout", headers=foreign), 403, 1005)
    assert_error(smq.post(f"/api/v1/tasks/{task_id}/claim", headers={"Origin": "null"}), 403, 1005)
    assert_error(
        smq.post(f"/api/v1/tasks/{task_id}/claim", headers={"Sec-Fetch-Site": "cross-site"}),
        403,
        1005,
    )
    compat = smq.post("/rpost/task", json={"operation": "TaskBind", "ID": task_id}, headers=foreign)
    assert compat.status_code == 200 and compat.json()["errid"] == 1005
    stranger = server.client()
    assert_error(
        stranger.post(
            "/api/v1/login", json={"username": "smq", "password": PASSWORD}, headers=foreign
        ),
        403,
        1005,
    )
    assert "taskdash_session" not in stranger.cookies
    assert task_of(smq, task_id)["User"] == ""

    # Reading is not state-changing; the same origin and no Origin at all are fine.
    assert smq.get("/api/v1/tasks", headers=foreign).status_code == 200
    same = smq.post(f"/api/v1/tasks/{task_id}/claim", headers={"Origin": server.url})
    assert same.status_code == 200, same.text
    assert smq.post(f"/api/v1/tasks/{task_id}/release").status_code == 200


def test_security_headers(server: LiveServer) -> None:
    client = server.client()
    answers = [
        client.get("/healthz"),
        client.get("/api/v1/tasks"),
        client.post("/rpost/task", json={"operation": "GetTasksNoUser"}),
        client.get("/no/such/page"),
        client.get("/docs"),
        client.get("/docs-assets/swagger-ui-bundle.js"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 200, 404, 200, 200]
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        directives = {
            d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";") if d.strip()
        }
        script_src = directives.get("script-src", directives.get("default-src"))
        assert script_src is not None, csp
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "*" not in script_src
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"


# --- tasks: list, filters, pagination -------------------------------------------------------


def test_task_list_filters(server: LiveServer) -> None:
    add_users(
        server,
        ("mgr", "manager", ""),
        ("smq", "annotator", ""),
        ("chk", "checker", ""),
    )
    bodies = [
        task_body("0001", task_type="satEdit", project="p1", created=100),
        task_body("0002", task_type="vidEdit", project="p1", created=110),
        task_body("0003", task_type="satEdit", project="p2", created=120),
        task_body("0004", task_type="vidEdit", project="p2", created=130),
    ]
    t1, t2, t3, t4 = publish_tasks(server, *bodies)
    mgr = server.login("mgr")
    for change in (
        {"ids": [t1], "user": "smq"},
        {"ids": [t2], "checker": "chk"},
        {"ids": [t3], "group": "g1"},
    ):
        assert mgr.post("/api/v1/tasks/assign", json=change).json()["assigned"] == 1

    assert listed(mgr) == [t1, t2, t3, t4]
    assert listed(mgr, status="已领取") == [t1]
    assert listed(mgr, status="待领取") == [t2, t3, t4]
    assert listed(mgr, user="smq") == [t1]
    assert listed(mgr, checker="chk") == [t2]
    assert listed(mgr, group="g1") == [t3]
    assert listed(mgr, type="vidEdit") == [t2, t4]
    assert listed(mgr, project="p2") == [t3, t4]
    assert listed(mgr, type="satEdit", project="p1") == [t1]
    assert listed(mgr, unclaimed="true") == [t2, t3, t4]
    assert listed(mgr, order="newest") == [t4, t3, t2, t1]
    assert listed(mgr, status="编辑中") == []
    # An annotator without a group: their own task and the unclaimed ones outside any group.
    smq = server.login("smq")
    assert listed(smq) == [t1, t2, t4]
    assert listed(smq, unclaimed="true") == [t2, t4]
    assert listed(smq, user="smq") == [t1]


def test_cursor_pagination_visits_every_task_exactly_once(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager", ""))
    times = [100, 100, 100, 200, 300, 300, 400, 500]  # ties are ordered by ID
    bodies = [
        task_body(f"{n:04d}", created=t, task_type="vidEdit" if n % 3 else "satEdit")
        for n, t in enumerate(times)
    ]
    publish_tasks(server, *bodies)
    oldest = order_by_time(bodies)
    mgr = server.login("mgr")
    for limit in (1, 3, 4, 8, 50):
        assert walk(mgr, limit=limit) == oldest, limit
        assert walk(mgr, limit=limit, order="newest") == oldest[::-1], limit
    vid = [i for i in oldest if i in {task_id_of(b) for b in bodies if b["TaskType"] == "vidEdit"}]
    assert walk(mgr, limit=2, type="vidEdit") == vid
    assert walk(mgr, limit=2, type="vidEdit", order="newest") == vid[::-1]


@pytest.mark.parametrize("order", ["oldest", "newest"])
def test_an_annotators_pages_cover_their_own_and_the_unclaimed_tasks(
    server: LiveServer, order: str
) -> None:
    add_users(server, ("smq", "annotator", ""), ("bob", "annotator", ""))
    unclaimed = [task_body(f"u{n}", created=100 * n) for n in (1, 2, 3)]
    own = [task_body(f"o{n}", created=100 * n) for n in (5, 6)]
    others = [task_body("x7", created=700)]
    publish_tasks(server, *unclaimed, *own, *others)
    smq, bob = server.login("smq"), server.login("bob")
    for body in own:
        assert smq.post(f"/api/v1/tasks/{task_id_of(body)}/claim").status_code == 200
    assert bob.post(f"/api/v1/tasks/{task_id_of(others[0])}/claim").status_code == 200
    expected = order_by_time(unclaimed + own)
    if order == "newest":
        expected.reverse()
    for limit in (2, 1000):
        assert walk(smq, limit=limit, order=order) == expected, limit


def test_bad_list_parameters_are_400(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    smq = server.login("smq")
    for params in (
        {"limit": 0},
        {"limit": 1001},
        {"order": "sideways"},
        {"unclaimed": "perhaps"},
        {"cursor": "not-a-cursor"},
    ):
        assert_error(smq.get("/api/v1/tasks", params=params), 400, 1000)


# --- tasks: detail, claim, release ----------------------------------------------------------


def test_task_detail_has_the_history_with_actors_and_transitions(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""), ("mgr", "manager", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    smq = server.login("smq")
    assert smq.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    assert smq.post(f"/api/v1/tasks/{task_id}/release").status_code == 200
    mgr = server.login("mgr")
    assert mgr.post("/api/v1/tasks/assign", json={"ids": [task_id], "user": "smq"}).is_success

    body = detail(smq, task_id)
    assert body["task"]["ID"] == task_id
    assert (body["task"]["User"], body["task"]["Status"]) == ("smq", "已领取")
    history = [
        (e["actor"], e["action"], e["from_status"], e["to_status"], e["from_user"], e["to_user"])
        for e in body["history"]
    ]
    assert history == [  # newest first
        ("mgr", "assign", "待领取", "已领取", "", "smq"),
        ("smq", "release", "已领取", "待领取", "smq", ""),
        ("smq", "claim", "待领取", "已领取", "", "smq"),
        ("service", "create", "", "待领取", "", ""),
    ]
    ats = [e["at"] for e in body["history"]]
    assert ats == sorted(ats, reverse=True)
    assert abs(ats[0] - time.time()) < 60


def test_claim_and_release(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""), ("bob", "annotator", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    smq, bob = server.login("smq"), server.login("bob")

    claimed = smq.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200, claimed.text
    task = claimed.json()
    assert (task["ID"], task["User"], task["Status"]) == (task_id, "smq", "已领取")
    assert task["ClaimedAt"] is not None and task["ServiceOnline"] is True

    assert_error(bob.post(f"/api/v1/tasks/{task_id}/claim"), 409, 1007)
    assert_error(smq.post(f"/api/v1/tasks/{task_id}/claim"), 409, 1007)
    assert_error(bob.post(f"/api/v1/tasks/{task_id}/release"), 404, 1006)  # hidden from bob
    assert_error(smq.post("/api/v1/tasks/no-such-task/claim"), 404, 1006)
    assert_error(smq.post("/api/v1/tasks/no-such-task/release"), 404, 1006)

    released = smq.post(f"/api/v1/tasks/{task_id}/release")
    assert released.status_code == 200, released.text
    assert (released.json()["User"], released.json()["Status"]) == ("", "待领取")
    assert released.json()["ClaimedAt"] is None
    assert bob.post(f"/api/v1/tasks/{task_id}/claim").json()["User"] == "bob"


def test_the_holder_releases_only_while_claimed_a_manager_always(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""), ("mgr", "manager", ""))
    body = task_body("0001")
    (task_id,) = publish_tasks(server, body)
    smq = server.login("smq")
    assert smq.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    server.publish("updateStatus", [{**body, "Status": "编辑中"}])
    assert task_of(smq, task_id)["Status"] == "编辑中"
    assert_error(smq.post(f"/api/v1/tasks/{task_id}/release"), 409, 1007)
    released = server.login("mgr").post(f"/api/v1/tasks/{task_id}/release")
    assert released.status_code == 200, released.text
    assert (released.json()["User"], released.json()["Status"]) == ("", "待领取")


def test_claim_next_takes_the_oldest_claimable_task(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    bodies = [
        task_body("0001", task_type="vidEdit", project="p2", created=300),
        task_body("0002", task_type="satEdit", project="p1", created=200),
        task_body("0003", task_type="vidEdit", project="p1", created=100),
        task_body("0004", task_type="satEdit", project="p2", created=400),
    ]
    t1, t2, t3, t4 = publish_tasks(server, *bodies)
    smq = server.login("smq")
    assert smq.post("/api/v1/tasks/claim-next", json={"type": "satEdit"}).json()["ID"] == t2
    assert smq.post("/api/v1/tasks/claim-next", json={"project": "p2"}).json()["ID"] == t1
    assert smq.post("/api/v1/tasks/claim-next").json()["ID"] == t3  # no body at all
    assert smq.post("/api/v1/tasks/claim-next", json={}).json()["ID"] == t4
    assert_error(smq.post("/api/v1/tasks/claim-next", json={}), 404, 1009)


def test_nothing_to_claim_is_1009(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    smq = server.login("smq")
    assert_error(smq.post("/api/v1/tasks/claim-next", json={}), 404, 1009)
    publish_tasks(server, task_body("0001", task_type="satEdit"))
    assert_error(smq.post("/api/v1/tasks/claim-next", json={"type": "vidEdit"}), 404, 1009)
    answer = smq.post("/rpost/task", json={"operation": "TaskBind", "TaskType": "vidEdit"})
    assert answer.status_code == 200 and answer.json()["errid"] == 1009


def test_the_claim_limit_counts_unfinished_tasks(tmp_path: Path) -> None:
    with live_server(tmp_path, max_claims_per_user=2) as server:
        add_users(server, ("smq", "annotator", ""), ("bob", "annotator", ""))
        bodies = [task_body(f"{n:04d}", created=100 + n) for n in range(4)]
        t0, t1, t2, t3 = publish_tasks(server, *bodies)
        smq = server.login("smq")
        assert smq.post(f"/api/v1/tasks/{t0}/claim").status_code == 200
        assert smq.post(f"/api/v1/tasks/{t1}/claim").status_code == 200
        assert_error(smq.post(f"/api/v1/tasks/{t2}/claim"), 409, 1008)
        assert_error(smq.post("/api/v1/tasks/claim-next", json={}), 409, 1008)
        compat = smq.post("/rpost/task", json={"operation": "TaskBind", "ID": t2})
        assert compat.status_code == 200 and compat.json()["errid"] == 1008
        # The limit is per user.
        assert server.login("bob").post(f"/api/v1/tasks/{t3}/claim").status_code == 200
        # A finished task no longer counts; neither does a released one.
        server.publish("updateStatus", [{**bodies[0], "Status": "已完成"}])
        assert smq.post(f"/api/v1/tasks/{t2}/claim").status_code == 200
        assert smq.post(f"/api/v1/tasks/{t1}/release").status_code == 200
        assert smq.post("/api/v1/tasks/claim-next", json={}).json()["ID"] == t1


def test_a_group_task_is_claimable_only_by_members_of_that_group(server: LiveServer) -> None:
    add_users(
        server,
        ("ga", "annotator", "G"),
        ("gb", "annotator", "H"),
        ("mgr", "manager", ""),
    )
    (task_id,) = publish_tasks(server, task_body("0001"))
    mgr = server.login("mgr")
    assert mgr.post("/api/v1/tasks/assign", json={"ids": [task_id], "group": "G"}).is_success
    task = task_of(mgr, task_id)
    assert (task["Group"], task["User"], task["Status"]) == ("G", "", "待领取")

    ga, gb = server.login("ga"), server.login("gb")
    assert listed(gb, unclaimed="true") == []
    assert gb.post("/rpost/task", json={"operation": "GetTasksNoUser"}).json() == []
    # Never in gb's lists: answered exactly as a missing task.
    assert_error(gb.get(f"/api/v1/tasks/{task_id}"), 404, 1006)
    assert_error(gb.post(f"/api/v1/tasks/{task_id}/claim"), 404, 1006)
    assert_error(gb.post("/api/v1/tasks/claim-next", json={}), 404, 1009)

    assert listed(ga, unclaimed="true") == [task_id]
    claimed = ga.post("/api/v1/tasks/claim-next", json={})
    assert claimed.status_code == 200 and claimed.json()["ID"] == task_id


# --- assign -----------------------------------------------------------------------------------


def test_assign_one_task_a_list_or_every_task_matching_a_filter(server: LiveServer) -> None:
    add_users(
        server,
        ("mgr", "manager", ""),
        ("smq", "annotator", ""),
        ("chk", "checker", ""),
    )
    bodies = [
        task_body("0001", task_type="satEdit", created=100),
        task_body("0002", task_type="vidEdit", created=200),
        task_body("0003", task_type="satEdit", created=300),
        task_body("0004", task_type="vidEdit", created=400),
    ]
    t1, t2, t3, t4 = publish_tasks(server, *bodies)
    mgr = server.login("mgr")

    def assign(**body: Any) -> dict[str, Any]:
        answer = mgr.post("/api/v1/tasks/assign", json=body)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    assert assign(ids=[t1], user="smq") == {"assigned": 1, "failed": {}}
    task = task_of(mgr, t1)
    assert (task["User"], task["Status"]) == ("smq", "已领取")  # an unclaimed task is claimed

    assert assign(ids=[t2, t3], checker="chk") == {"assigned": 2, "failed": {}}
    assert listed(mgr, checker="chk") == [t2, t3]

    assert assign(filter={"type": "vidEdit"}, group="g1") == {"assigned": 2, "failed": {}}
    assert listed(mgr, group="g1") == [t2, t4]

    result = assign(ids=[t4, "no-such-task"], checker="chk")
    assert result["assigned"] == 1
    assert list(result["failed"]) == ["no-such-task"]
    assert result["failed"]["no-such-task"].startswith("1006")

    assert assign(ids=[t1], user="") == {"assigned": 1, "failed": {}}  # '' takes the user off
    task = task_of(mgr, t1)
    assert (task["User"], task["Status"]) == ("", "待领取")

    # The compatible endpoint does the same.
    answer = mgr.post("/rpost/task", json={"operation": "TaskAssign", "ID": t3, "user": "smq"})
    assert answer.json() == "success"
    assert task_of(mgr, t3)["User"] == "smq"


def test_assign_refuses_what_it_cannot_do(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager", ""), ("gone", "annotator", ""))
    (task_id,) = publish_tasks(server, task_body("0001"))
    mgr = server.login("mgr")
    assert mgr.patch("/api/v1/me", json={"lang": "en"}).status_code == 200
    for body in (
        {"user": "mgr"},  # neither ids nor filter
        {"ids": [task_id], "filter": {}, "user": "mgr"},  # both
        {"ids": [task_id]},  # nothing to set
        {"ids": [task_id], "user": "nobody"},  # unknown user
        {"ids": [task_id], "group": "team", "strategy": "round_robin", "user": "mgr"},
        {"ids": [task_id], "strategy": "round_robin"},  # a strategy needs a group
        {"ids": [task_id], "group": "empty", "strategy": "least_loaded"},  # no members
        {"ids": [task_id], "group": "team", "strategy": "fastest"},
        {"ids": task_id, "user": "mgr"},
    ):
        assert_error(mgr.post("/api/v1/tasks/assign", json=body), 400, 1000)
    assert task_of(mgr, task_id)["User"] == ""


def test_assign_strategies_spread_tasks_over_a_groups_members(server: LiveServer) -> None:
    add_users(
        server,
        ("mgr", "manager", ""),
        ("u1", "annotator", "team"),
        ("u2", "annotator", "team"),
        ("u3", "annotator", "other-team"),
    )
    bodies = [task_body(f"{n:04d}", created=100 + n) for n in range(6)]
    a, b, c, d, e, f = publish_tasks(server, *bodies)
    mgr = server.login("mgr")

    answer = mgr.post(
        "/api/v1/tasks/assign", json={"ids": [a, b, c], "group": "team", "strategy": "round_robin"}
    )
    assert answer.json() == {"assigned": 3, "failed": {}}
    assert [task_of(mgr, t)["User"] for t in (a, b, c)] == ["u1", "u2", "u1"]
    assert {task_of(mgr, t)["Group"] for t in (a, b, c)} == {"team"}

    # Now u1 holds 2 and u2 holds 1: least_loaded evens them out, ties going to u1.
    answer = mgr.post(
        "/api/v1/tasks/assign",
        json={"ids": [d, e, f], "group": "team", "strategy": "least_loaded"},
    )
    assert answer.json() == {"assigned": 3, "failed": {}}
    assert [task_of(mgr, t)["User"] for t in (d, e, f)] == ["u2", "u1", "u2"]
    assert listed(mgr, user="u1") == [a, c, e]
    assert listed(mgr, user="u2") == [b, d, f]
    assert listed(mgr, user="u3") == []


# --- services, dead letters, users ------------------------------------------------------------


def test_services_are_listed_with_their_health(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    sent_at = int(time.time())
    # The service answers the metadata pull its registration starts: no error to show.
    with ThreadedApp(empty_metadata) as service:
        server.publish(
            "serviceRegister",
            [{"URL": f"{service.url}/TaskDash/", "Name": "satEdit", "Reserved": ""}],
        )
        server.publish("heartBeat", [{"url": f"{service.url}/TaskDash/", "time": sent_at}])
        server.publish("heartBeat", [{"url": "http://127.0.0.1:18099/hb", "time": sent_at}])
        t1, _t2 = publish_tasks(
            server,
            task_body("0001", url=f"{service.url}/edit/1"),
            task_body("0002", url=f"{service.url}/edit/2"),
        )
        smq = server.login("smq")
        assert smq.post(f"/api/v1/tasks/{t1}/claim").status_code == 200

        answer = smq.get("/api/v1/services")
    assert answer.status_code == 200
    body = answer.json()
    (listed,) = body["services"]
    assert listed["url"] == f"{service.url}/TaskDash"
    assert (listed["name"], listed["origin"]) == ("satEdit", service.url)
    assert (listed["online"], listed["clock_skew"]) == (True, False)
    assert listed["last_heartbeat_sender_time"] == sent_at
    assert abs(listed["last_heartbeat"] - time.time()) < 60
    assert listed["metadata_error"] == ""
    assert listed["tasks"] == {"total": 2, "unclaimed": 1, "claimed": 1}
    assert body["unknown_heartbeats"] == {"http://127.0.0.1:18099/hb": 1}


def test_tasks_of_an_offline_service_are_marked_and_cannot_be_claimed(tmp_path: Path) -> None:
    with live_server(tmp_path, heartbeat_timeout_s=0.5, health_sweep_interval_s=0.05) as server:
        add_users(server, ("mgr", "manager", ""))
        server.publish("serviceRegister", [{"URL": f"{SERVICE_URL}/TaskDash/", "Name": "sat"}])
        offline_task, unregistered_task = publish_tasks(
            server,
            task_body("0001", url=f"{SERVICE_URL}/edit/1", created=100),
            task_body("0002", url="http://127.0.0.1:18099/edit/2", created=200),
        )
        mgr = server.login("mgr")
        wait_until(lambda: not mgr.get("/api/v1/services").json()["services"][0]["online"])

        assert task_of(mgr, offline_task)["ServiceOnline"] is False
        assert task_of(mgr, unregistered_task)["ServiceOnline"] is True
        assert listed(mgr, online="true") == [unregistered_task]
        assert listed(mgr, online="false") == [offline_task]
        assert listed(mgr, unclaimed="true") == [unregistered_task]
        no_user = mgr.post("/rpost/task", json={"operation": "GetTasksNoUser"}).json()
        assert [t["ID"] for t in no_user] == [unregistered_task]
        assert_error(mgr.post(f"/api/v1/tasks/{offline_task}/claim"), 409, 1007)
        # Claim-next skips it; tasks of unregistered services can be claimed.
        assert mgr.post("/api/v1/tasks/claim-next", json={}).json()["ID"] == unregistered_task


def test_dead_letters_are_listed_for_admins(server: LiveServer) -> None:
    add_users(server, ("adm", "admin", ""), ("mgr", "manager", ""))
    malformed = [
        ("taskRegister", '{"ID":'),
        ("taskRegister", '{"ProjectID":5,"InstanceID":"i","TaskID":"t","TaskType":"x"}'),
        ("updateStatus", '{"ProjectID":"p","InstanceID":"i","TaskType":"x"}'),
        ("serviceRegister", '{"Name":"no url"}'),
        ("heartBeat", "[]"),
    ]
    for topic, body in malformed:
        answer = server.pub(topic, body)
        assert (answer.status_code, answer.text) == (200, "OK")
    adm = server.login("adm")
    page = adm.get("/api/v1/dead-letters")
    assert page.status_code == 200, page.text
    letters = page.json()
    assert letters["total"] == len(malformed)
    assert [(d["topic"], d["body"]) for d in letters["items"]] == malformed[::-1]  # newest first
    assert all(d["reason"] and d["attempts"] >= 1 for d in letters["items"])
    assert "TaskID" in letters["items"][2]["reason"]

    first = adm.get("/api/v1/dead-letters", params={"limit": 3}).json()
    rest = adm.get(
        "/api/v1/dead-letters", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == [d["id"] for d in letters["items"]]
    assert rest["next_cursor"] is None

    assert_error(server.login("mgr").get("/api/v1/dead-letters"), 403, 1005)
    assert_error(adm.get("/api/v1/dead-letters", params={"cursor": "abc"}), 400, 1000)


def test_admins_create_change_and_disable_users(server: LiveServer) -> None:
    add_users(server, ("adm", "admin", ""))
    adm = server.login("adm")
    created = adm.post(
        "/api/v1/users",
        json={"name": "neo", "role": "annotator", "password": PASSWORD, "group": "g1"},
    )
    assert created.status_code == 201, created.text
    assert created.json() == {
        "name": "neo",
        "role": "annotator",
        "group": "g1",
        "disabled": False,
        "lang": "zh",
    }
    for bad in (
        {"name": "neo", "role": "annotator", "password": PASSWORD},  # exists
        {"name": "short", "role": "annotator", "password": "short"},
        {"name": "two words", "role": "annotator", "password": PASSWORD},
        {"name": "king", "role": "king", "password": PASSWORD},
    ):
        assert_error(adm.post("/api/v1/users", json=bad), 400, 1000)
    users = adm.get("/api/v1/users").json()
    assert [u["name"] for u in users] == ["adm", "neo"]
    assert all("password" not in key for u in users for key in u)

    neo = server.login("neo")
    changed = adm.patch("/api/v1/users/neo", json={"role": "checker", "group": "g2"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["group"]) == ("checker", "g2")
    assert_error(neo.get("/api/v1/me"), 401, 1004)  # what neo may see changed: signed out
    neo = server.login("neo")
    assert neo.get("/api/v1/me").json()["role"] == "checker"

    disabled = adm.patch("/api/v1/users/neo", json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert_error(neo.get("/api/v1/me"), 401, 1004)
    assert_error(login(server.client(), "neo"), 401, 1003)  # same answer as a wrong password

    assert adm.patch("/api/v1/users/neo", json={"disabled": False}).json()["disabled"] is False
    neo = server.login("neo")
    assert adm.patch("/api/v1/users/neo", json={"password": "a new password"}).status_code == 200
    assert_error(neo.get("/api/v1/me"), 401, 1004)  # a new password ends old sessions
    assert login(server.client(), "neo", "a new password").status_code == 200


# --- probes and metrics -----------------------------------------------------------------------


def test_healthz_readyz_and_metrics(server: LiveServer) -> None:
    client = server.client()
    healthz = client.get("/healthz")
    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    readyz = client.get("/readyz")
    assert readyz.status_code == 200
    assert readyz.json()["ready"] is True and readyz.json()["checks"]["store"] == "ok"

    server.publish("taskRegister", [task_body("0001")])
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE taskdash_messages_total counter" in metrics.text
    assert 'taskdash_messages_total{outcome="ok",topic="taskRegister"}' in metrics.text


# --- HTTP ingest ------------------------------------------------------------------------------


def test_ingest_needs_the_token_and_a_known_topic(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager", ""))
    client = server.client()
    body = b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"satEdit"}'
    for path in ("/pub", "/mpub"):
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "test-ingest-token"},
        ):
            answer = client.post(f"{path}?topic=taskRegister", content=body, headers=headers)
            assert answer.status_code == 401, (path, headers)
    good = {"Authorization": f"Bearer {server.settings.ingest_token}"}
    for path in ("/pub", "/mpub"):
        refused = [
            client.post(f"{path}?topic=noSuchTopic", content=body, headers=good),
            client.post(path, content=body, headers=good),  # no topic
            client.post(f"{path}?topic=taskRegister", content=b"", headers=good),
        ]
        assert [answer.status_code for answer in refused] == [400, 400, 400], path
    mgr = server.login("mgr")
    assert listed(mgr) == []  # nothing refused was applied
    answer = client.post("/pub?topic=taskRegister", content=body, headers=good)
    assert (answer.status_code, answer.text) == (200, "OK")
    lines = b"\n".join(body.replace(b'"t"', f'"t{n}"'.encode()) for n in range(3))
    answer = client.post("/mpub?topic=taskRegister", content=lines, headers=good)
    assert (answer.status_code, answer.text) == (200, "OK")
    assert len(listed(mgr)) == 4


def test_ingest_is_off_without_a_token(tmp_path: Path) -> None:
    with live_server(tmp_path, ingest_token="") as server:
        client = server.client()
        for path in ("/pub", "/mpub"):
            for headers in ({}, {"Authorization": "Bearer x"}):
                answer = client.post(f"{path}?topic=taskRegister", content=b"{}", headers=headers)
                assert answer.status_code == 404, (path, headers)


# --- errors -----------------------------------------------------------------------------------


def test_rest_errors_have_an_http_status_and_an_errid_body(server: LiveServer) -> None:
    add_users(server, ("smq", "annotator", ""))
    anonymous = server.client()
    body = assert_error(anonymous.get("/api/v1/tasks"), 401, 1004)
    assert set(body) <= {"errid", "errmsg", "detail"}
    assert_error(anonymous.post("/api/v1/tasks/claim-next", json={}), 401, 1004)
    assert_error(anonymous.post("/api/v1/login", json={}), 400, 1000)
    assert_error(
        anonymous.post("/api/v1/login", content=b"{", headers={"content-type": "application/json"}),
        400,
        1000,
    )

    smq = server.login("smq")
    assert_error(smq.get("/api/v1/tasks/no-such-task"), 404, 1006)
    assert_error(smq.post("/api/v1/tasks/claim-next", json={"type": 5}), 400, 1000)
    not_found = smq.get("/api/v1/no-such-resource")
    assert not_found.status_code == 404 and not_found.json()["errid"] == 1000
    wrong_method = smq.delete("/api/v1/tasks")
    assert wrong_method.status_code == 405 and wrong_method.json()["errid"] == 1000


def test_seed_ids_are_served_by_detail(server: LiveServer) -> None:
    """The seed's IDs (md5 of the four fields) address tasks in the REST API too."""
    add_users(server, ("mgr", "manager", ""))
    task_id, project, instance, number, kind, status, created = SEED_TASKS[0]
    server.publish(
        "taskRegister",
        [
            task_body(
                number,
                status=status,
                task_type=kind,
                project=project,
                instance=instance,
                created=created,
            )
        ],
    )
    task = task_of(server.login("mgr"), task_id)
    assert (task["TaskID"], task["CreateTime"], task["Status"]) == (number, created, status)
