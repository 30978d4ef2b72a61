"""The `taskdash` console script: accounts, bad settings, and a zero-configuration start."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.processes import TASKDASH_SCRIPT, clean_env, serve_process
from tests.support import PASSWORD, LiveServer, free_port

NEW_PASSWORD = "a brand new passphrase"
CLI_TIMEOUT_S = 60


def taskdash(
    *args: str, store_url: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script with only TASKDASH_STORE_URL set."""
    return subprocess.run(
        [str(TASKDASH_SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(TASKDASH_STORE_URL=store_url),
        cwd=cwd,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def add_user(store_url: str, name: str, role: str, *extra: str, password: str = PASSWORD) -> str:
    done = taskdash(
        "user", "add", name, "--role", role, *extra, "--password-stdin",
        store_url=store_url, stdin=password + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def list_users(store_url: str) -> dict[str, list[str]]:
    """name -> [role, group, state], from `taskdash user list`."""
    done = taskdash("user", "list", store_url=store_url)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines() if line.strip()]
    return {row[0]: row[1:] for row in rows}


def login(server: LiveServer, name: str, password: str) -> httpx.Response:
    return server.client().post(
        "/rpost/task", json={"operation": "userLogin", "username": name, "password": password}
    )


def my_tasks(client: httpx.Client) -> object:
    return client.post("/rpost/task", json={"operation": "GetTasksByUser"}).json()


def errid(answer: object) -> object:
    return answer.get("errid") if isinstance(answer, dict) else answer


def test_user_add_and_list_show_roles_groups_and_state(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'taskdash.db'}"
    assert add_user(store_url, "alice", "annotator", "--group", "g1") == (
        "added alice (annotator, group g1)"
    )
    assert add_user(store_url, "bob", "checker") == "added bob (checker)"
    add_user(store_url, "carol", "admin")
    assert taskdash("user", "disable", "bob", store_url=store_url).returncode == 0
    assert list_users(store_url) == {
        "alice": ["annotator", "g1", "active"],
        "bob": ["checker", "-", "disabled"],
        "carol": ["admin", "-", "active"],
    }


def test_duplicate_user_fails_with_a_clear_message(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'taskdash.db'}"
    add_user(store_url, "alice", "annotator")
    done = taskdash(
        "user", "add", "alice", "--role", "manager", "--password-stdin",
        store_url=store_url, stdin="another password\n",
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["taskdash: user alice already exists"]
    assert list_users(store_url) == {"alice": ["annotator", "-", "active"]}


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("passwd", "nobody", "--password-stdin"), NEW_PASSWORD, "no user nobody"),
        (("disable", "nobody"), None, "no user nobody"),
        (("add", "dave", "--role", "annotator", "--password-stdin"), "short", "at least 8"),
    ],
)
def test_user_command_refusals_exit_non_zero(
    tmp_path: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    done = taskdash(
        "user", *args, store_url=f"sqlite:///{tmp_path / 'taskdash.db'}",
        stdin=None if stdin is None else stdin + "\n",
    )  # fmt: skip
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_passwd_closes_sessions_and_the_new_password_works(server: LiveServer) -> None:
    store_url = server.settings.store_url
    add_user(store_url, "alice", "annotator")
    session = server.login("alice", PASSWORD)
    assert my_tasks(session) == []

    done = taskdash("user", "passwd", "alice", "--password-stdin",
                    store_url=store_url, stdin=NEW_PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sessions are closed" in done.stdout

    assert errid(my_tasks(session)) == 1004
    assert errid(login(server, "alice", PASSWORD).json()) == 1003
    assert my_tasks(server.login("alice", NEW_PASSWORD)) == []


def test_disable_ends_sessions_and_stops_login(server: LiveServer) -> None:
    store_url = server.settings.store_url
    add_user(store_url, "alice", "annotator")
    session = server.login("alice", PASSWORD)

    done = taskdash("user", "disable", "alice", store_url=store_url)
    assert done.returncode == 0, done.stderr

    assert errid(my_tasks(session)) == 1004
    assert errid(login(server, "alice", PASSWORD).json()) == 1003
    assert list_users(store_url)["alice"] == ["annotator", "-", "disabled"]


@pytest.mark.parametrize(
    ("env", "args", "setting"),
    [
        ({"TASKDASH_PORT": "abc"}, (), "TASKDASH_PORT"),
        ({"TASKDASH_STORE_URL": "redis://x"}, ("--port", "0"), "TASKDASH_STORE_URL"),
        ({"TASKDASH_MAX_CLAIMS_PER_USER": "-1"}, ("--port", "0"), "TASKDASH_MAX_CLAIMS_PER_USER"),
        (
            {"TASKDASH_CLAIM_SWEEP_INTERVAL_S": "61"},
            ("--port", "0"),
            "TASKDASH_CLAIM_SWEEP_INTERVAL_S",
        ),
        ({"TASKDASH_LOG_FORMAT": "xml"}, ("--port", "0"), "TASKDASH_LOG_FORMAT"),
        ({}, ("--port", "0", "--heartbeat-timeout-s", "-5"), "TASKDASH_HEARTBEAT_TIMEOUT_S"),
    ],
)
def test_bad_setting_stops_serve_with_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], args: tuple[str, ...], setting: str
) -> None:
    done = subprocess.run(
        [str(TASKDASH_SCRIPT), "serve", *args],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        cwd=tmp_path,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0
    assert len(lines) == 1, done.stderr
    name = setting.removeprefix("TASKDASH_").lower()
    assert setting in lines[0] and name in lines[0], lines[0]
    assert not (tmp_path / "data").exists(), "a refused start must not create a store"


def test_serve_without_settings_uses_the_embedded_store_in_cwd(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    port = free_port()
    with serve_process(tmp_path, env=clean_env(), port=port, cwd=empty, name="defaults") as server:
        db = (empty / "data" / "taskdash.db").resolve()
        assert db.is_file()
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
        log = server.log()
        assert f"listening on http://127.0.0.1:{port}" in log, log
        assert f"data: {db}" in log, log
        # uvicorn re-raises SIGTERM after its graceful shutdown, as daemons conventionally do.
        assert server.stop() in (0, -signal.SIGTERM), server.log()
        assert "store closed" in server.log()
    assert sorted(p.name for p in empty.iterdir()) == ["data"]
