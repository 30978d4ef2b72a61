"""The store (FerretDB) stopped for a few seconds under a live NSQ feed: 1002, messages wait in
nsqd (requeued, never FINished), none lost once it is back.

The server's driver gives up on the stopped store after 0.5 s instead of 2 s (timeouts in the
store URL, as an operator may set them), so the outage shows the same in 4 s as it did in 10.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ferretdb import FerretDb
from tests.servers import Nsqd
from tests.support import LiveServer, make_settings, task_body, wait_until

BEFORE = 500
DURING = 1_000
OUTAGE_S = 4.0
FAST_FAILING = "serverSelectionTimeoutMS=500&connectTimeoutMS=500"
STORE_READ_FAILED = {"errid": 1002, "errmsg": "数据库查询失败"}


@pytest.fixture
def own_ferretdb(tmp_path: Path) -> Iterator[FerretDb]:
    """A FerretDB of this test's own (the session one must stay up for the other tests)."""
    server = FerretDb(tmp_path / "ferretdb")
    try:
        yield server.start()
    finally:
        server.close()


def channel(nsqd: Nsqd, topic: str) -> dict[str, Any]:
    """nsqd's stats of the shared channel of `topic`."""
    for t in nsqd.stats().get("topics", []):
        if t["topic_name"] == topic:
            for found in t["channels"]:
                if found["channel_name"] == "taskdash":
                    return dict(found)
    raise AssertionError(f"no channel taskdash on {topic}")


def finished(stats: dict[str, Any]) -> int:
    """Messages the channel's consumers have FINished."""
    return sum(int(client["finish_count"]) for client in stats["clients"])


def waiting(stats: dict[str, Any]) -> int:
    """Messages still held by nsqd: queued, in flight (not acknowledged) or deferred."""
    return int(stats["depth"]) + int(stats["in_flight_count"]) + int(stats["deferred_count"])


def bodies(first: int, count: int) -> list[bytes]:
    return [json.dumps(task_body(f"{n:05d}")).encode() for n in range(first, first + count)]


def test_store_outage_holds_messages_in_nsq_and_answers_1002(
    tmp_path: Path, own_ferretdb: FerretDb, nsqd: Nsqd
) -> None:
    url = own_ferretdb.url("taskdash") + "?" + FAST_FAILING
    settings = make_settings(tmp_path, store_url=url, nsqd_tcp_addresses=[nsqd.tcp_address])
    server = LiveServer(settings).start()
    try:
        server.add_user("ops", "manager")
        client = server.login("ops")
        mongo = own_ferretdb.client()

        def stored() -> int:
            return mongo.taskdash.tasks.count_documents({})

        nsqd.mpub("taskRegister", bodies(0, BEFORE))
        wait_until(lambda: stored() == BEFORE and waiting(channel(nsqd, "taskRegister")) == 0)
        before = channel(nsqd, "taskRegister")
        assert finished(before) == BEFORE

        mongo.close()
        own_ferretdb.stop()  # SIGTERM
        stopped_at = time.monotonic()
        for start in range(BEFORE, BEFORE + DURING, DURING // 4):
            nsqd.mpub("taskRegister", bodies(start, DURING // 4))
            time.sleep(0.2)

        tasks = client.get("/api/v1/tasks")
        assert tasks.status_code == 503
        assert {k: tasks.json()[k] for k in STORE_READ_FAILED} == STORE_READ_FAILED
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["store"].startswith("error")
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))

        during = channel(nsqd, "taskRegister")
        print(
            f"\nafter {OUTAGE_S:.0f} s without the store: {during['requeue_count']} requeues,"
            f" {waiting(during)} of {DURING} messages waiting in nsqd"
            f" (depth {during['depth']}, in flight {during['in_flight_count']},"
            f" deferred {during['deferred_count']})"
        )
        assert int(during["requeue_count"]) > int(before["requeue_count"])
        assert finished(during) == BEFORE, "a message was FINished while the store was down"
        assert waiting(during) == DURING

        restarted = FerretDb(own_ferretdb.data_path, port=own_ferretdb.port).start()
        own_ferretdb.proc = restarted.proc  # the fixture stops the restarted one
        back_at = time.monotonic()
        mongo = own_ferretdb.client()
        wait_until(
            lambda: stored() == BEFORE + DURING and waiting(channel(nsqd, "taskRegister")) == 0,
            timeout_s=120,
            step_s=0.2,
        )
        print(f"all {BEFORE + DURING} stored {time.monotonic() - back_at:.1f} s after restart")
        assert mongo.taskdash.task_events.count_documents({"action": "create"}) == BEFORE + DURING
        assert len(mongo.taskdash.tasks.distinct("task_id")) == BEFORE + DURING
        assert mongo.taskdash.dead_letters.count_documents({}) == 0
        mongo.close()

        # The session made before the outage is still valid; the API and readiness recover.
        wait_until(lambda: client.get("/readyz").status_code == 200, timeout_s=30)
        page = client.get("/api/v1/tasks", params={"limit": 1})
        assert page.status_code == 200 and len(page.json()["items"]) == 1
    finally:
        server.stop()
