"""`GET /api/v1/events`: server-sent events reach an open stream within 2 s."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx

from tests.support import LiveServer, task_body, task_id_of


def read_events(
    server: LiveServer, name: str, found: queue.Queue[dict[str, Any]], stop: threading.Event
) -> None:
    client = server.login(name)
    try:
        with client.stream("GET", "/api/v1/events", timeout=30) as stream:
            kind = ""
            for line in stream.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    found.put({"kind": kind, **json.loads(line.removeprefix("data: "))})
    except httpx.HTTPError:
        if not stop.is_set():  # the server going away at the end of the test is expected
            raise


def test_claims_by_others_and_new_tasks_arrive_on_the_stream(server: LiveServer) -> None:
    server.add_user("watcher")
    server.add_user("smq")
    found: queue.Queue[dict[str, Any]] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(
        target=read_events, args=(server, "watcher", found, stop), daemon=True
    )
    reader.start()
    time.sleep(0.3)  # the stream subscribes on connect; give the request a moment to land
    started = time.monotonic()
    server.publish("taskRegister", [task_body("0001")])
    created = found.get(timeout=5)
    assert created["kind"] == "task" and created["action"] == "create"
    assert time.monotonic() - started < 2
    smq = server.login("smq")
    assert smq.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
    claimed = found.get(timeout=5)
    assert (claimed["action"], claimed["task_id"], claimed["to_user"]) == (
        "claim",
        task_id_of(task_body("0001")),
        "smq",
    )
    stop.set()


def test_the_stream_needs_a_session(server: LiveServer) -> None:
    answer = server.client().get("/api/v1/events")
    assert answer.status_code == 401 and answer.json()["errid"] == 1004
