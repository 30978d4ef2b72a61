"""No secret in any output at any log level, and no driver internals in API errors."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.ferretdb import FerretDb
from tests.processes import TASKDASH_SCRIPT, clean_env, serve_process
from tests.servers import Nsqd
from tests.support import PASSWORD, LiveServer, free_port, make_settings, task_body

STORE_PASSWORD = "SECRETPW-7f3a"
INGEST_TOKEN = "INGEST-SECRET-81bd"
NSQ_SECRET = "NSQ-SECRET-42c0"
CLI_TIMEOUT_S = 60


def taskdash(*args: str, stdin: str | None = None, **settings: str) -> str:
    """All the output (stdout and stderr) of one `taskdash` run at DEBUG."""
    done = subprocess.run(
        [str(TASKDASH_SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(TASKDASH_LOG_LEVEL="DEBUG", **settings),
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    return done.stdout + done.stderr


def test_a_store_password_is_never_printed(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    no_database = f"mongodb://u:{STORE_PASSWORD}@127.0.0.1:1"
    unreachable = f"mongodb://u:{STORE_PASSWORD}@127.0.0.1:{free_port()}/taskdash"
    copy = ("store", "copy")
    empty = f"sqlite:///{tmp_path / 'none.db'}"
    add = ("user", "add", "ops", "--role", "admin", "--password-stdin")
    outputs = {
        "serve, no database": taskdash(
            "serve", "--port", str(free_port()), TASKDASH_STORE_URL=no_database
        ),
        "serve, unreachable": taskdash(
            "serve", "--port", str(free_port()), TASKDASH_STORE_URL=unreachable
        ),
        "serve --store": taskdash("serve", "--port", str(free_port()), "--store", no_database),
        "copy --from, no database": taskdash(*copy, "--from", no_database, "--to", target),
        "copy --to, no database": taskdash(*copy, "--from", empty, "--to", no_database),
        "copy --from, unreachable": taskdash(*copy, "--from", unreachable, "--to", target),
        "user add": taskdash(*add, stdin=PASSWORD + "\n", TASKDASH_STORE_URL=unreachable),
    }
    for what, output in outputs.items():
        assert output.strip(), what
        assert STORE_PASSWORD not in output, f"{what}:\n{output}"
    assert "u:***@127.0.0.1:1" in outputs["serve, no database"]


def test_debug_logs_show_no_hash_token_or_secret(
    tmp_path: Path, mongo_url: str, ferretdb: FerretDb, nsqd: Nsqd
) -> None:
    added = taskdash(
        "user", "add", "ops", "--role", "manager", "--password-stdin",
        stdin=PASSWORD + "\n", TASKDASH_STORE_URL=mongo_url,
    )  # fmt: skip
    assert "added ops" in added, added
    env = clean_env(
        TASKDASH_STORE_URL=mongo_url,
        TASKDASH_LOG_LEVEL="DEBUG",
        TASKDASH_INGEST_TOKEN=INGEST_TOKEN,
        TASKDASH_NSQD_TCP_ADDRESSES=nsqd.tcp_address,
        TASKDASH_NSQ_AUTH_SECRET=NSQ_SECRET,
    )
    with serve_process(tmp_path, env=env) as server, httpx.Client(base_url=server.url) as client:
        login = client.post(
            "/rpost/task", json={"operation": "userLogin", "username": "ops", "password": PASSWORD}
        )
        assert login.json() == "success", login.text
        cookie = next(iter(client.cookies.values()))
        assert client.get("/api/v1/tasks").status_code == 200
        published = client.post(
            "/pub?topic=taskRegister",
            json=task_body("t1"),
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        )
        assert published.text == "OK"
        nsqd.pub("taskRegister", b'{"TaskID": "t2", "ProjectID": "p", "InstanceID": "i"}')
        assert client.post("/api/v1/logout").status_code in (200, 204)
        log = server.log()
    database = mongo_url.rsplit("/", 1)[1]
    with MongoClient(f"mongodb://{ferretdb.address}/") as mongo:
        password_hash = mongo[database].users.find_one({"_id": "ops"})["password_hash"]
    output = added + log
    for secret in (PASSWORD, password_hash, "$argon2", cookie, INGEST_TOKEN, NSQ_SECRET):
        assert secret not in output, secret


@pytest.fixture
def own_ferretdb(tmp_path: Path) -> Iterator[FerretDb]:
    server = FerretDb(tmp_path / "ferretdb").start()
    try:
        yield server
    finally:
        server.close()  # its PostgreSQL cluster lives outside tmp_path


def test_store_errors_name_no_host_or_topology(tmp_path: Path, own_ferretdb: FerretDb) -> None:
    server = LiveServer(make_settings(tmp_path, store_url=own_ferretdb.url("taskdash"))).start()
    try:
        server.add_user("ops", "manager")
        client = server.login("ops")
        own_ferretdb.stop()
        tasks = client.get("/api/v1/tasks")
        compat = client.post("/rpost/task", json={"operation": "GetTasksNoUser"})
        ready = client.get("/readyz")
    finally:
        server.stop()
    assert tasks.status_code == 503 and ready.status_code == 503
    assert tasks.json()["detail"] == "mongodb: store unavailable", tasks.text
    for answer in (tasks, compat, ready):
        assert own_ferretdb.address not in answer.text, answer.text
        assert str(own_ferretdb.port) not in answer.text, answer.text
        assert "Topology" not in answer.text and "Errno" not in answer.text, answer.text
