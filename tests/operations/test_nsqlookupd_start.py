"""Behind nsqlookupd, `taskdash serve` starts in any order with nsqd: not ready, then consuming."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx

from tests.processes import ServeProcess, clean_env, serve_process
from tests.servers import Nsqd, Nsqlookupd
from tests.support import task_body, wait_until

POLL_INTERVAL_S = 2
# nsqd registers a new topic with nsqlookupd at once; the Readers see it at their next poll
# (an interval plus pynsq's jitter of at most 30 %), and then connect.
CONSUME_WITHIN_S = POLL_INTERVAL_S * 1.3 + 2.0


def lookupd_env(tmp_path: Path, lookupd: Nsqlookupd) -> dict[str, str]:
    return clean_env(
        TASKDASH_STORE_URL=f"sqlite:///{tmp_path / 'taskdash.db'}",
        TASKDASH_NSQLOOKUPD_HTTP_ADDRESSES=lookupd.http_address,
        TASKDASH_NSQ_LOOKUPD_POLL_INTERVAL_S=str(POLL_INTERVAL_S),
    )


def stored(tmp_path: Path) -> int:
    with sqlite3.connect(f"file:{tmp_path / 'taskdash.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM tasks").fetchone()[0])


def readiness(serve: ServeProcess) -> httpx.Response:
    return httpx.get(f"{serve.url}/readyz", timeout=10)


def publish_and_wait_stored(tmp_path: Path, nsqd: Nsqd, count: int) -> float:
    """Publish one task (nsqd creates its topic) and return how long until it was stored."""
    nsqd.pub("taskRegister", json.dumps(task_body(f"t{count}")).encode())
    published_at = time.monotonic()
    wait_until(lambda: stored(tmp_path) == count, timeout_s=CONSUME_WITHIN_S, step_s=0.05)
    return time.monotonic() - published_at


def test_serve_starts_before_any_nsqd_and_consumes_once_one_registers(tmp_path: Path) -> None:
    lookupd = Nsqlookupd(tmp_path / "lookupd").start()
    try:
        with serve_process(tmp_path, env=lookupd_env(tmp_path, lookupd)) as serve:
            waiting = readiness(serve)
            assert waiting.status_code == 503, waiting.text
            assert waiting.json()["checks"]["store"] == "ok"
            assert waiting.json()["checks"]["nsq"] == "error: nsqlookupd lists no nsqd yet"

            nsqd = Nsqd(tmp_path / "nsqd", node_id=1, lookupd_tcp=lookupd.tcp_address).start()
            try:
                print(f"\nstored {publish_and_wait_stored(tmp_path, nsqd, 1):.1f} s after publish")
                # Ready with one of the four topics on the only nsqd: ready needs no topic.
                wait_until(lambda: readiness(serve).status_code == 200, timeout_s=10)
            finally:
                nsqd.stop()
    finally:
        lookupd.stop()


def test_serve_started_after_nsqd_consumes_and_is_ready_with_one_topic(tmp_path: Path) -> None:
    lookupd = Nsqlookupd(tmp_path / "lookupd").start()
    nsqd = Nsqd(tmp_path / "nsqd", node_id=1, lookupd_tcp=lookupd.tcp_address).start()
    try:
        nsqd.create_channel("taskRegister", "taskdash")
        nsqd.pub("taskRegister", json.dumps(task_body("t1")).encode())
        with serve_process(tmp_path, env=lookupd_env(tmp_path, lookupd)) as serve:
            wait_until(lambda: stored(tmp_path) == 1, timeout_s=CONSUME_WITHIN_S)
            wait_until(lambda: readiness(serve).status_code == 200, timeout_s=10)
            assert readiness(serve).json()["checks"] == {"store": "ok", "nsq": "ok"}
    finally:
        nsqd.stop()
        lookupd.stop()


def test_serve_starts_while_nsqlookupd_is_down_and_consumes_once_it_is_up(tmp_path: Path) -> None:
    lookupd = Nsqlookupd(tmp_path / "lookupd")  # its ports are chosen, it is not running yet
    try:
        with serve_process(tmp_path, env=lookupd_env(tmp_path, lookupd)) as serve:
            down = readiness(serve)
            assert down.status_code == 503, down.text
            assert down.json()["checks"]["nsq"] == "error: no nsqlookupd answers"

            lookupd.start()
            nsqd = Nsqd(tmp_path / "nsqd", node_id=1, lookupd_tcp=lookupd.tcp_address).start()
            try:
                publish_and_wait_stored(tmp_path, nsqd, 1)
                wait_until(lambda: readiness(serve).status_code == 200, timeout_s=10)
            finally:
                nsqd.stop()
    finally:
        lookupd.stop()
