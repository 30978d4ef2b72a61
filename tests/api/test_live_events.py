"""`GET /api/v1/events`: server-sent events reach an open stream within 2 s."""

from __future__ import annotations

import time

from tests.live_stream import EventStream, StreamEvent
from tests.support import LiveServer, task_body, task_id_of


def test_claims_by_others_and_new_tasks_arrive_on_the_stream(server: LiveServer) -> None:
    server.add_user("watcher")
    server.add_user("smq")
    task_id = task_id_of(task_body("0001"))
    with EventStream(server.login("watcher")) as stream:  # subscribed once entered
        started = time.monotonic()
        server.publish("taskRegister", [task_body("0001")])
        created = stream.next()
        assert created.kind == "task" and created.data["action"] == "create"
        assert time.monotonic() - started < 2
        smq = server.login("smq")
        assert smq.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
        # Taken by someone else, the task leaves the watcher's list: its id and nothing else.
        assert stream.next() == StreamEvent("remove", {"task_id": task_id})


def test_the_holder_hears_their_claim_in_full(server: LiveServer) -> None:
    server.add_user("smq")
    smq = server.login("smq")
    server.publish("taskRegister", [task_body("0002")])
    with EventStream(server.login("smq")) as stream:
        assert smq.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
        claimed = stream.until(lambda e: e.data.get("action") == "claim")[-1]
    assert (claimed.kind, claimed.data["task_id"], claimed.data["to_user"]) == (
        "task",
        task_id_of(task_body("0002")),
        "smq",
    )


def test_the_stream_needs_a_session(server: LiveServer) -> None:
    answer = server.client().get("/api/v1/events")
    assert answer.status_code == 401 and answer.json()["errid"] == 1004
