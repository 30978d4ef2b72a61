"""User names: one rule (NFKC, no invisible characters, <= 64) and unique without regard to case."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from taskdash.actions import accounts
from taskdash.domain.errors import BadRequest
from taskdash.domain.models import Role, User
from taskdash.domain.ports import Store
from taskdash.domain.user_names import user_name, user_name_key
from taskdash.store import open_store
from taskdash.store.sqlite.schema import MIGRATIONS
from tests.processes import TASKDASH_SCRIPT, clean_env
from tests.security.accounts import add_users, api_login, password_hash, user_names
from tests.support import PASSWORD, LiveServer, make_settings, task_body, task_id_of

ZERO_WIDTH = "ann1\u200b"  # shown as "ann1"
NUL = "\u0000x"
BAD_NAMES = (ZERO_WIDTH, NUL, "ann\u202eevil", "ann\u00a01", "x" * 65)


def test_the_rule() -> None:
    assert user_name("  ａｎｎ１ ") == "ann1"  # NFKC folds full-width forms; edges trimmed
    assert user_name("Ａnn1") == "Ann1"  # case is kept: only uniqueness ignores it
    assert user_name("x" * 64) == "x" * 64
    assert user_name("李雷") == "李雷"
    for bad in (*BAD_NAMES, "", "   ", "a/b", "a b", "a\tb", "a\u2028b", "\ue000", "\U000e0041"):
        with pytest.raises(BadRequest):
            user_name(bad)
    assert user_name_key("Ann1") == user_name_key("ANN1") == user_name_key("ａｎｎ１") == "ann1"
    assert user_name_key("Straße") == user_name_key("STRASSE")


def test_bad_names_are_refused_by_rest_and_rpost(server: LiveServer) -> None:
    add_users(server.settings, ("root", "admin"), ("ann1", "annotator"))
    server.publish("taskRegister", [task_body("0001")])
    task_id = task_id_of(task_body("0001"))
    admin = server.login("root")
    for bad in (*BAD_NAMES, "Ann1", "ANN1", "ａｎｎ１"):
        answer = admin.post(
            "/api/v1/users", json={"name": bad, "role": "annotator", "password": PASSWORD}
        )
        assert answer.status_code == 400 and answer.json()["errid"] == 1000, (bad, answer.text)
    for bad in BAD_NAMES:
        for params in (
            {"operation": "userLogin", "username": bad, "password": PASSWORD},
            {"operation": "GetTasksByUser", "user": bad},
            {"operation": "TaskBind", "ID": task_id, "user": bad},
            {"operation": "TaskAssign", "ID": task_id, "user": bad},
            {"operation": "TaskAssign", "ID": task_id, "checker": bad},
        ):
            answer = admin.post("/rpost/task", json=params).json()
            assert isinstance(answer, dict) and answer["errid"] == 1000, (params, answer)
        rest = api_login(server.client(), bad, PASSWORD)
        assert rest.status_code == 400 and rest.json()["errid"] == 1000, (bad, rest.text)
    assert user_names(server.settings) == ["ann1", "root"]


def test_a_name_is_found_without_regard_to_case(server: LiveServer) -> None:
    """Chosen: case-insensitive lookup. `ANN1` logs in as, and names, the user `ann1`."""
    add_users(server.settings, ("root", "manager"), ("ann1", "annotator"))
    server.publish("taskRegister", [task_body("0001")])
    task_id = task_id_of(task_body("0001"))
    answer = api_login(server.client(), "ANN1")
    assert answer.status_code == 200 and answer.json()["name"] == "ann1"
    assert server.login("ａｎｎ１").get("/api/v1/me").json()["name"] == "ann1"
    manager = server.login("root")
    assigned = manager.post(
        "/rpost/task", json={"operation": "TaskAssign", "ID": task_id, "user": "Ann1"}
    )
    assert assigned.json() == "success"
    tasks = manager.post("/rpost/task", json={"operation": "GetTasksByUser", "user": "ANN1"})
    assert [t["User"] for t in tasks.json()] == ["ann1"]
    disabled = manager.patch("/api/v1/users/ANN1", json={"disabled": True})
    assert disabled.status_code == 403  # managers may list users, only admins change them


def test_a_new_name_is_normalised(server: LiveServer) -> None:
    add_users(server.settings, ("root", "admin"))
    admin = server.login("root")
    answer = admin.post(
        "/api/v1/users", json={"name": "ｂｏｂ", "role": "annotator", "password": PASSWORD}
    )
    assert answer.status_code == 201 and answer.json()["name"] == "bob"
    assert admin.patch("/api/v1/users/BOB", json={"group": "g1"}).json()["group"] == "g1"
    assert user_names(server.settings) == ["bob", "root"]


def taskdash_user_add(store_url: str, name: str) -> tuple[int, str]:
    done = subprocess.run(
        [str(TASKDASH_SCRIPT), "user", "add", name, "--role", "annotator", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=clean_env(TASKDASH_STORE_URL=store_url, TASKDASH_LOG_LEVEL="WARNING"),
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.fixture(params=["sqlite", "mongo"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "mongo":
        url: str = request.getfixturevalue("mongo_url")
        return url
    return f"sqlite:///{tmp_path / 'taskdash.db'}"


def test_bad_names_are_refused_by_the_cli(store_url: str) -> None:
    assert taskdash_user_add(store_url, "ann1") == (0, "")
    # A NUL cannot reach a program through its arguments (the OS refuses it); the same
    # action the CLI calls refuses it below, and U+0001 stands for it on the command line.
    for bad in (ZERO_WIDTH, "\u0001x", "ann\u202eevil", "Ann1", "ａｎｎ１", "x" * 100_000):
        code, stderr = taskdash_user_add(store_url, bad)
        assert code == 1 and stderr.startswith("taskdash: "), (bad[:80], stderr)
        assert len(stderr.splitlines()) == 1 and len(stderr) < 300
    for bad in (NUL, "Ann1"):
        with pytest.raises(BadRequest):
            run_on_store_url(
                store_url,
                lambda store, bad=bad: accounts.create_user(
                    store=store, name=bad, role=Role.ANNOTATOR, password=PASSWORD
                ),
            )
    users = run_on_store_url(store_url, lambda store: store.accounts.list_users())
    assert [u.name for u in users] == ["ann1"]


def run_on_store_url(url: str, action: Callable[[Store], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        store = await open_store(url)
        try:
            return await action(store)
        finally:
            await store.aclose()

    return asyncio.run(run())


async def test_the_store_keeps_names_unique_without_regard_to_case(store_url: str) -> None:
    store: Store = await open_store(store_url)
    try:
        await store.accounts.add_user(User("ann1", Role.ANNOTATOR, password_hash()))
        for other in ("Ann1", "ANN1", "ａｎｎ１"):
            with pytest.raises(BadRequest, match="ann1 already exists"):
                await store.accounts.add_user(User(other, Role.ANNOTATOR, password_hash()))
        found = await store.accounts.get_user("ANN1")
        assert found is not None and found.name == "ann1"
        updated = await store.accounts.update_user(name="Ann1", group="g1")
        assert updated.name == "ann1" and updated.group == "g1"
        assert [u.name for u in await store.accounts.list_users()] == ["ann1"]
    finally:
        await store.aclose()


LEGACY_USERS = (("ann1", 1.0), ("Ann1", 2.0), ("bob", 3.0))


def old_sqlite_database(path: Path) -> str:
    """A database at schema version 2, before names were unique without regard to case."""
    with sqlite3.connect(path) as conn:
        for migration in MIGRATIONS[:2]:
            conn.executescript(migration)
        conn.execute("PRAGMA user_version=2")
        for name, created in LEGACY_USERS:
            conn.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, 1, ?, ?)",
                (name, password_hash(), created),
            )
    return f"sqlite:///{path}"


def test_an_old_sqlite_database_is_migrated(tmp_path: Path) -> None:
    """Names differing only in case, made before, stay; the oldest owns the folded name."""
    check_legacy_users(old_sqlite_database(tmp_path / "old.db"))


def test_old_mongodb_users_get_their_keys(mongo_url: str) -> None:
    with MongoClient(mongo_url) as client:
        client.get_default_database().users.insert_many(
            [
                {"_id": name, "role": 1, "password_hash": password_hash(), "created_at": created}
                for name, created in LEGACY_USERS
            ]
        )
    check_legacy_users(mongo_url)


def check_legacy_users(url: str) -> None:
    async def check(store: Store) -> None:
        exact = await store.accounts.get_user("Ann1")
        assert exact is not None and exact.name == "Ann1"
        folded = await store.accounts.get_user("ANN1")
        assert folded is not None and folded.name == "ann1"
        with pytest.raises(BadRequest):
            await store.accounts.add_user(User("BOB", Role.ANNOTATOR, password_hash()))
        assert [u.name for u in await store.accounts.list_users()] == ["Ann1", "ann1", "bob"]

    run_on_store_url(url, check)
    run_on_store_url(url, check)  # opening again changes nothing


def test_old_names_differing_only_in_case_still_log_in(tmp_path: Path) -> None:
    url = old_sqlite_database(tmp_path / "old.db")
    server = LiveServer(make_settings(tmp_path, store_url=url)).start()
    try:
        for name in ("Ann1", "ann1"):
            answer = api_login(server.client(), name)
            assert answer.status_code == 200 and answer.json()["name"] == name
    finally:
        server.stop()
