"""The README's first command: `taskdash demo` serves live tasks from simulated services."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import clean_env
from tests.support import free_port, wait_until


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
    finally:
        proc.terminate()  # the demo stops its nsqd itself on a graceful stop
        try:
            proc.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # anything of its group still running
            proc.wait()
