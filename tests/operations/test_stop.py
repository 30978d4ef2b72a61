"""SIGTERM and Ctrl-C with 100 open live streams: closed first, then drained; ≤ 5 s, exit 0."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.processes import ServeProcess, clean_env, serve_process

PASSWORD = "stop-test-password"
STREAMS = 100
STOP_WITHIN_S = 5.0


def add_user(store_url: str) -> None:
    added = subprocess.run(
        [
            *(sys.executable, "-m", "taskdash.cli", "user", "--store", store_url),
            *("add", "ops", "--role", "admin", "--password-stdin"),
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    assert added.returncode == 0, added.stderr


def session_cookie(server: ServeProcess) -> str:
    login = httpx.post(
        f"{server.url}/rpost/task",
        json={"operation": "userLogin", "username": "ops", "password": PASSWORD},
        timeout=10,
    )
    assert login.json() == "success", login.text
    return "; ".join(f"{name}={value}" for name, value in login.cookies.items())


def open_streams(server: ServeProcess, cookie: str, stack: ExitStack) -> list[socket.socket]:
    """STREAMS raw connections, each with its `GET /api/v1/events` answered and left open."""
    request = (
        f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    streams = []
    for _ in range(STREAMS):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port), 10))
        sock.sendall(request)
        streams.append(sock)
    for sock in streams:
        received = b""
        while b": connected" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
        assert received.startswith(b"HTTP/1.1 200"), received[:200]
    return streams


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'taskdash.db'}"
    add_user(url)
    yield url


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_stop_with_100_open_streams(
    tmp_path: Path, store_url: str, stop_signal: signal.Signals
) -> None:
    env = clean_env(TASKDASH_STORE_URL=store_url)
    with serve_process(tmp_path, env=env) as server, ExitStack() as stack:
        streams = open_streams(server, session_cookie(server), stack)
        started = time.monotonic()
        server.proc.send_signal(stop_signal)
        try:
            code = server.proc.wait(timeout=STOP_WITHIN_S * 3)
        except subprocess.TimeoutExpired:
            code = None
        took_s = time.monotonic() - started
        print(f"stop with {len(streams)} open streams ({stop_signal.name}): {took_s:.2f} s")
        log = server.log()
        assert code == 0, f"exit {code} after {took_s:.1f} s:\n{log}"
        assert took_s <= STOP_WITHIN_S, f"{took_s:.1f} s:\n{log}"
        assert "Traceback" not in log, log
        assert "KeyboardInterrupt" not in log, log
        # Every stream was ended by the server (not cut by the process dying).
        for sock in streams:
            sock.settimeout(5)
            while sock.recv(65536):
                pass
