"""`taskdash simulate` as a real task service publishing to a real nsqd."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.servers import Nsqd
from tests.support import LiveServer, free_port, make_settings, wait_until


@contextmanager
def simulator(tmp_path: Path, nsqd: Nsqd, *args: str) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / f"simulate-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskdash.cli",
            "simulate",
            "--port",
            str(port),
            "--nsqd-tcp-address",
            nsqd.tcp_address,
            *args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def service_state(server: LiveServer, admin: Any) -> dict[str, Any]:
    services = admin.get("/api/v1/services").json()["services"]
    return {s["name"]: s for s in services}


def test_a_silent_service_goes_offline_and_comes_back(tmp_path: Path, nsqd: Nsqd) -> None:
    timeout_s, sweep_s = 1.5, 0.2
    server = LiveServer(
        make_settings(
            tmp_path,
            nsqd_tcp_addresses=[nsqd.tcp_address],
            heartbeat_timeout_s=timeout_s,
            health_sweep_interval_s=sweep_s,
            metadata_sync_interval_s=0.5,
        )
    ).start()
    try:
        server.add_user("manager", "manager")
        server.add_user("smq")
        manager, smq = server.login("manager"), server.login("smq")
        with simulator(
            tmp_path,
            nsqd,
            "--name",
            "satEdit",
            "--rate",
            "0",
            "--initial-tasks",
            "3",
            "--heartbeat-interval",
            "0.3",
            "--stop-heartbeat-after",
            "2",
        ) as port:
            wait_until(
                lambda: (
                    service_state(server, manager).get("satEdit", {}).get("online")
                    and service_state(server, manager)["satEdit"]["tasks"]["total"] == 3
                ),
                timeout_s=15,
            )
            wait_until(
                lambda: not service_state(server, manager)["satEdit"]["online"], timeout_s=10
            )
            state = service_state(server, manager)["satEdit"]
            silent_for = time.time() - state["last_heartbeat"]
            assert silent_for <= timeout_s + sweep_s + 0.5, silent_for
            tasks = smq.get("/api/v1/tasks", params={"type": "satEdit"}).json()["items"]
            assert tasks and not any(t["ServiceOnline"] for t in tasks)
            assert smq.post("/rpost/task", json={"operation": "GetTasksNoUser"}).json() == []
            refused = smq.post("/rpost/task", json={"operation": "TaskBind", "ID": tasks[0]["ID"]})
            assert refused.json()["errid"] == 1007
            # Its next heartbeat brings it back, and its tasks with it.
            beat = {"url": f"http://127.0.0.1:{port}/TaskDash/", "time": int(time.time())}
            nsqd.pub("heartBeat", json.dumps(beat).encode())
            wait_until(lambda: service_state(server, manager)["satEdit"]["online"], timeout_s=10)
            bound = smq.post("/rpost/task", json={"operation": "TaskBind", "ID": tasks[0]["ID"]})
            assert bound.json() == "success"
    finally:
        server.stop()


def test_simulated_service_tasks_and_metadata_arrive(tmp_path: Path, nsqd: Nsqd) -> None:
    server = LiveServer(
        make_settings(
            tmp_path,
            nsqd_tcp_addresses=[nsqd.tcp_address],
            metadata_sync_interval_s=0.5,
        )
    ).start()
    try:
        server.add_user("manager", "manager")
        manager = server.login("manager")
        with simulator(
            tmp_path,
            nsqd,
            "--name",
            "vidEdit",
            "--rate",
            "20",
            "--initial-tasks",
            "5",
            "--malformed-every",
            "7",
        ):
            wait_until(
                lambda: (
                    len(manager.get("/api/v1/tasks", params={"limit": 100}).json()["items"]) >= 30
                ),
                timeout_s=15,
            )
            state = service_state(server, manager)["vidEdit"]
            assert state["online"]
            wait_until(
                lambda: service_state(server, manager)["vidEdit"]["metadata_synced_at"],
                timeout_s=10,
            )
        server.add_user("admin", "admin")
        letters = server.login("admin").get("/api/v1/dead-letters").json()
        assert letters["total"] >= 3
    finally:
        server.stop()
