"""The README's first command: `taskdash demo` serves live tasks from simulated services, moves
claimed tasks (the seed's too), and stops cleanly on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from taskdash.sample_data import SEED_TASKS
from tests.processes import clean_env
from tests.support import free_port, wait_until

# A seed task that starts unclaimed (satEdit); the simulated satEdit moves it once claimed.
SEED_UNCLAIMED = next(t[0] for t in SEED_TASKS if t[4] == "satEdit" and t[5] == "待领取")


def nothing_listens(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


@pytest.mark.parametrize("transport", ["nsqd", "http-ingest"])
def test_demo_serves_live_tasks_from_simulated_services(tmp_path: Path, transport: str) -> None:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "taskdash.cli",
        "demo",
        "--port",
        str(port),
        "--data",
        str(tmp_path / "demo"),
        "--task-rate",
        "2",
        "--status-interval",
        "0.3",
    ]
    if transport == "http-ingest":
        args.append("--no-nsqd")
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        # A session of its own, so that whatever the demo started (nsqd) can be reaped with it.
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_until(lambda: "smq " in log.read_text(), timeout_s=60)
        text = log.read_text()
        assert ("nsqd at" in text) == (transport == "nsqd"), text
        password = re.search(r"^\s+smq\s+annotator\s+(\S+)$", text, re.M)
        assert password, text
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            login = client.post(
                "/api/v1/login", json={"username": "smq", "password": password.group(1)}
            )
            assert login.status_code == 200, login.text

            def unclaimed() -> int:
                page = client.get("/api/v1/tasks", params={"unclaimed": "true", "limit": 1000})
                return len(page.json()["items"])

            wait_until(lambda: unclaimed() >= 20, timeout_s=30)  # seed tasks + initial ones
            before = unclaimed()
            wait_until(lambda: unclaimed() > before + 2, timeout_s=30)  # live arrivals
            services = client.get("/api/v1/services").json()["services"]
            assert {s["name"] for s in services} == {"satEdit", "vidEdit"}
            assert all(s["online"] for s in services)
            if transport == "nsqd":  # the simulators learn of claims from the task events
                claimed = client.post(f"/api/v1/tasks/{SEED_UNCLAIMED}/claim")
                assert claimed.status_code == 200, claimed.text

                def status() -> str:
                    answer = client.get(f"/api/v1/tasks/{SEED_UNCLAIMED}")
                    return str(answer.json()["task"]["Status"])

                wait_until(lambda: status() not in ("待领取", "已领取"), timeout_s=15)

        # Ctrl-C at a terminal signals the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        text = log.read_text()
        assert "Traceback" not in text and " ERROR " not in text, text
        assert f"demo stopped; its data stays in {tmp_path / 'demo'}" in text
        # The banner comes after every start-up line of the demo's parts.
        banner = text.index("TaskDash demo")
        assert "simulated at" not in text[banner:], text
        nsqd = re.search(r"nsqd at (\S+) \(TCP\)", text)
        if nsqd:
            assert nothing_listens(nsqd.group(1)), "the demo left its nsqd running"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything of its group still running
            proc.wait()
