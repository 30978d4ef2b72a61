"""`kill -9` of TaskDash while it consumes from a real nsqd: nothing lost, nothing twice."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.processes import clean_env, serve_process
from tests.servers import Nsqd
from tests.support import TOPICS, task_body, wait_until

MESSAGES = 5000


def stored_count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM tasks").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_kill_9_in_the_middle_of_5000_messages_loses_none(tmp_path: Path) -> None:
    nsqd = Nsqd(tmp_path / "nsqd", node_id=1, extra_args=("--msg-timeout=3s",)).start()
    try:
        for topic in TOPICS:
            nsqd.create_channel(topic, "taskdash")
        for start in range(0, MESSAGES, 500):
            nsqd.mpub(
                "taskRegister",
                [json.dumps(task_body(f"{n:05d}")).encode() for n in range(start, start + 500)],
            )
        db = tmp_path / "taskdash.db"
        env = clean_env(
            TASKDASH_NSQD_TCP_ADDRESSES=nsqd.tcp_address,
            TASKDASH_NSQ_MAX_IN_FLIGHT="50",
            TASKDASH_LOG_LEVEL="WARNING",
        )
        with serve_process(tmp_path, store_url=f"sqlite:///{db}", env=env) as first:
            wait_until(lambda: stored_count(db) >= 200, timeout_s=30, step_s=0.005)
            first.kill()
        at_kill = stored_count(db)
        assert at_kill < MESSAGES, "the consumer finished before the kill; nothing was tested"
        with serve_process(tmp_path, store_url=f"sqlite:///{db}", env=env, name="restarted"):
            wait_until(lambda: stored_count(db) == MESSAGES, timeout_s=60)
            wait_until(
                lambda: nsqd.channel_depth("taskRegister", "taskdash") == (0, 0), timeout_s=30
            )
        with sqlite3.connect(db) as conn:
            distinct = conn.execute("SELECT count(DISTINCT task_id) FROM tasks").fetchone()[0]
            creations = conn.execute(
                "SELECT count(*) FROM task_events WHERE action = 'create'"
            ).fetchone()[0]
        assert distinct == MESSAGES
        assert creations == MESSAGES, "a task was created twice"
        print(f"killed with {at_kill} of {MESSAGES} stored; all {MESSAGES} after restart")
    finally:
        nsqd.stop()
