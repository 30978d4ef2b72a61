"""An unexpected error answers errid 1011 with a request ID, logged once with its traceback;
a client that goes away in the middle of its body is one debug line, not an ERROR.

The unexpected error is a real one: a task record the code cannot read (a status source no
version of TaskDash writes), put into the store behind the server's back, as a hand edit or
a damaged restore would.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import sqlite3

import pytest
from pymongo import MongoClient

from tests.security.fuzzing import seed
from tests.support import LiveServer, task_body, task_id_of, wait_until

CORRUPT_TASK = task_body("corrupt", status="编辑中")


def corrupt_task_record(server: LiveServer, task_id: str) -> None:
    """Give the stored task a status source the code does not know."""
    url = server.settings.store_url
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE tasks SET status_src = 99 WHERE _id = ?", (task_id,))
        return
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=5_000)
    with client:
        client.get_default_database().tasks.update_one(
            {"_id": task_id}, {"$set": {"status_src": 99}}
        )


def unexpected_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_unexpected_error_answers_1011_with_request_id_logged_once(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = seed(server)
    server.publish("taskRegister", [CORRUPT_TASK])
    task_id = task_id_of(CORRUPT_TASK)
    corrupt_task_record(server, task_id)
    caplog.set_level(logging.INFO)
    conn = http.client.HTTPConnection("127.0.0.1", server.settings.port, timeout=30)
    cookie = {"Cookie": f"taskdash_session={sessions.tokens['admin']}"}
    try:
        conn.request("GET", f"/api/v1/tasks/{task_id}", headers=cookie)
        answer = conn.getresponse()
        body = answer.read().decode()
        request_id = answer.getheader("X-Request-ID")
        assert answer.status == 500, body
        assert request_id and len(request_id) >= 16
        assert answer.getheader("Content-Security-Policy")
        assert json.loads(body) == {
            "errid": 1011,
            "errmsg": "服务器内部错误",
            "request_id": request_id,
        }
        errors = unexpected_errors(caplog)
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert request_id in errors[0].getMessage()
        assert errors[0].exc_info and errors[0].exc_info[0] is ValueError
        assert "Traceback" not in errors[0].getMessage()  # the traceback is the record's own

        # The same connection serves the next request, which gets its own ID.
        socket_before = conn.sock
        conn.request("GET", "/healthz")
        after = conn.getresponse()
        assert after.status == 200 and after.read() == b'{"status":"ok"}'
        assert conn.sock is socket_before
        assert after.getheader("X-Request-ID") not in (None, request_id)

        # /rpost/task answers the seed's way (HTTP 200, body with the errid), with the ID too.
        conn.request(
            "POST",
            "/rpost/task",
            body=b'{"operation":"GetTasksByStatus","status":"\\u7f16\\u8f91\\u4e2d"}',
            headers={**cookie, "Content-Type": "application/json", "X-Request-ID": "lb-42.a"},
        )
        compat = conn.getresponse()
        assert compat.status == 200
        assert json.loads(compat.read()) == {
            "errid": 1011,
            "errmsg": "服务器内部错误",
            "request_id": "lb-42.a",
        }
        assert compat.getheader("X-Request-ID") == "lb-42.a"
        assert len(unexpected_errors(caplog)) == 2
    finally:
        conn.close()


def test_a_well_formed_incoming_request_id_is_kept(server: LiveServer) -> None:
    client = server.client()
    for given, kept in [
        (b"abc-123_X.y:z", True),
        (b"a b", False),
        (b"x" * 129, False),
        ("é".encode(), False),
        (b"", False),
    ]:
        echoed = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
        assert (echoed == given.decode()) is kept, (given, echoed)
        assert kept or len(echoed) == 32, echoed


def test_client_gone_mid_body_is_a_debug_line(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    head = (
        "POST /rpost/task HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.settings.port)) as sock:
        sock.sendall(head.encode() + b'{"operation":"userLo')

    def gone_logged() -> bool:
        return any("client went away" in r.getMessage() for r in caplog.records)

    wait_until(gone_logged)
    debug = [r for r in caplog.records if "client went away" in r.getMessage()]
    assert [r.levelno for r in debug] == [logging.DEBUG]
    assert "POST /rpost/task" in debug[0].getMessage() and debug[0].exc_info is None
    assert unexpected_errors(caplog) == []
    assert server.client().get("/healthz").status_code == 200
