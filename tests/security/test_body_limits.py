"""Request bodies are limited on every route before they are buffered (issue 10, item 4).

A Content-Length over the limit is refused before a byte of the body is sent; a chunked body is
refused once it passes the limit; either way the answer is 413 with errid 1000, the connection
serves the client's next request, and the server's memory does not grow with the body.
/pub and /mpub keep nsqd's own limits and answer exactly as a real nsqd v1.3.0 does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.processes import clean_env, serve_process
from tests.security.http_wire import Answer, Wire, pieces_of
from tests.servers import Nsqd
from tests.support import INGEST_TOKEN, LiveServer, make_settings

MIB = 1024 * 1024
DEFAULT_LIMIT = MIB
INGEST = {"Authorization": f"Bearer {INGEST_TOKEN}"}
JSON = {"Content-Type": "application/json"}
# Every kind of route: the seed endpoint (JSON and form), REST with and without a body, a
# missing path. The last three never read a body: a chunked one is dropped unread (and not
# refused, since it is never counted), but one with a Content-Length over the limit is.
READING = (
    ("POST", "/rpost/task", JSON),
    ("POST", "/rpost/task", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("POST", "/api/v1/login", JSON),
    ("POST", "/api/v1/tasks/claim-next", JSON),
)
NOT_READING = (
    ("GET", "/api/v1/tasks", {}),
    ("GET", "/healthz", {}),
    ("POST", "/no/such/path", {}),
)
ROUTES = READING + NOT_READING


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(make_settings(tmp_path)).start()
    try:
        yield live
    finally:
        live.stop()


def assert_refused(answer: Answer, limit: int) -> None:
    status, body = answer.status, json.loads(answer.body)
    assert (status, body["errid"]) == (413, 1000), (status, body)
    assert body["detail"] == f"body is larger than {limit} bytes"
    assert body["errmsg"]


def assert_no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize(("method", "path", "headers"), ROUTES)
def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    sqlite_server: LiveServer, method: str, path: str, headers: dict[str, str]
) -> None:
    with Wire(sqlite_server.settings.port, timeout_s=10) as wire:
        # Only the head goes out: the answer must come without the server waiting for a body.
        wire.send_head(method, path, {**headers, "Content-Length": str(50 * MIB)})
        assert_refused(wire.read_answer(), DEFAULT_LIMIT)


@pytest.mark.parametrize(
    ("method", "path", "headers", "chunked"),
    [(*route, False) for route in ROUTES] + [(*route, True) for route in READING],
)
def test_a_body_over_the_limit_is_refused_and_the_connection_serves_the_next_request(
    sqlite_server: LiveServer,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    headers: dict[str, str],
    chunked: bool,
) -> None:
    body = b'{"operation":"userLogin","username":"' + b"u" * (3 * MIB) + b'"}'
    with Wire(sqlite_server.settings.port) as wire:
        answer = wire.request(method, path, [body], chunked=chunked, headers=headers)
        assert_refused(answer, MIB)
        # The same connection, the next request: the rest of the refused body was dropped.
        assert wire.request("GET", "/healthz").status == 200
        answer = wire.request("POST", "/rpost/task", [b'{"operation":"GetTasksNoUser"}'])
        assert (answer.status, json.loads(answer.body)["errid"]) == (200, 1004)
    assert_no_errors_logged(caplog)


def test_the_limit_is_a_setting_and_a_body_within_it_is_read(tmp_path: Path) -> None:
    live = LiveServer(make_settings(tmp_path, max_body_bytes=4096)).start()
    try:
        # Padded with a key the operation ignores: names and passwords have caps of their own.
        login = b'{"operation":"userLogin","username":"nobody","password":"guess","pad":"%b"}'
        with Wire(live.settings.port) as wire:
            within = login % (b"p" * (4096 - len(login) + 2))
            answer = wire.request("POST", "/rpost/task", [within], headers=JSON)
            assert len(within) == 4096 and answer.status == 200
            assert json.loads(answer.body)["errid"] == 1003  # read and checked: wrong password
            over = login % (b"p" * (4097 - len(login) + 2))
            for chunked in (False, True):
                answer = wire.request("POST", "/rpost/task", [over], chunked=chunked, headers=JSON)
                assert_refused(answer, 4096)
    finally:
        live.stop()


# --- /pub and /mpub: nsqd's limits and nsqd's answers --------------------------------------


def ingest_cases() -> dict[str, tuple[str, list[bytes] | int, bool]]:
    """name -> (path, body pieces or a Content-Length sent without its body, chunked)."""
    return {
        "pub of 1 MiB + 1": ("/pub", pieces_of(MIB + 1), False),
        "pub declaring 100 MB": ("/pub", 100_000_000, False),
        "pub chunked 2 MiB": ("/pub", pieces_of(2 * MIB), True),
        "mpub declaring 5 MiB + 1": ("/mpub", 5 * MIB + 1, False),
        "mpub chunked 6 MiB": ("/mpub", [b"y" * (MIB - 1) + b"\n"] * 6, True),
        "mpub with one message over 1 MiB": (
            "/mpub",
            [b"{}\n", b"z" * (MIB + 1), b"\n{}"],
            False,
        ),
    }


@pytest.mark.parametrize("case", list(ingest_cases()))
def test_oversized_ingest_is_answered_as_a_real_nsqd_answers(
    sqlite_server: LiveServer, nsqd: Nsqd, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    path, body, chunked = ingest_cases()[case]
    if case == "pub of 1 MiB + 1":  # and one byte less is a message for both
        for port, headers in ((nsqd.http_port, {}), (sqlite_server.settings.port, INGEST)):
            with Wire(port) as wire:
                answer = wire.request(
                    "POST", "/pub?topic=heartBeat", pieces_of(MIB), headers=headers
                )
                assert (answer.status, answer.body) == (200, b"OK")
    answers = []
    for port, headers in ((nsqd.http_port, {}), (sqlite_server.settings.port, INGEST)):
        with Wire(port) as wire:
            target = f"{path}?topic=heartBeat"
            if isinstance(body, int):
                # A head alone: both must answer from the Content-Length, before any body.
                wire.send_head("POST", target, {**headers, "Content-Length": str(body)})
                answer = wire.read_answer()
            else:
                answer = wire.request("POST", target, body, chunked=chunked, headers=headers)
        answers.append(
            (
                answer.status,
                answer.body,
                answer.headers.get("content-type"),
                answer.headers.get("x-nsq-content-type"),
            )
        )
    nsqd_answer, ours = answers
    assert ours == nsqd_answer
    assert nsqd_answer[0] == 413
    assert_no_errors_logged(caplog)


# --- the server's memory -----------------------------------------------------------------------


def rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise AssertionError(f"no {field} for pid {pid}")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_concurrent_huge_posts_do_not_grow_the_servers_memory(
    tmp_path: Path, chunked: bool
) -> None:
    """Six 40 MB unauthenticated logins at once to `taskdash serve` (its own process)."""
    env = clean_env(TASKDASH_LOG_LEVEL="WARNING")
    store_url = f"sqlite:///{tmp_path / 'taskdash.db'}"
    body = pieces_of(40_000_000)

    def post(port: int) -> int:
        with Wire(port, timeout_s=120) as wire:
            return wire.request("POST", "/rpost/task", body, chunked=chunked, headers=JSON).status

    with serve_process(tmp_path, store_url=store_url, env=env, cwd=tmp_path) as server:
        before = rss_mb(server.proc.pid, "VmRSS")
        began = time.monotonic()
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(post, [server.port] * 6))
        peak = rss_mb(server.proc.pid, "VmHWM")
        assert peak - before < 30, f"peak RSS grew {peak - before:.1f} MB (from {before:.1f})"
        assert statuses == [413] * 6
        assert time.monotonic() - began < 120
        assert "Traceback" not in server.log()
