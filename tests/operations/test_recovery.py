"""Recovery: a killed instance's in-flight messages reach another in about `msg_timeout`, and
messages held back by a store outage are stored within seconds of the store's return."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from tests.ferretdb import FerretDb
from tests.processes import clean_env, serve_process
from tests.servers import Nsqd
from tests.support import LiveServer, make_settings, task_body, wait_until

MESSAGES = 200
MSG_TIMEOUT_S = 3
# nsqd's own msg_timeout (60 s) is what a consumer that announces none gets.
NSQD_DEFAULT_MSG_TIMEOUT_S = 60
# Long enough for the retries of a message held since the outage began to be far apart
# without a cap (1, 2, 4, 8, 16, 32 s: the next after 35 s comes at 63 s).
OUTAGE_S = 35.0
STORED_AFTER_RECOVERY_S = 10.0


def bodies(first: int, count: int) -> list[bytes]:
    return [json.dumps(task_body(f"{n:05d}")).encode() for n in range(first, first + count)]


def stored(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM tasks").fetchone()[0])


def test_a_killed_instances_messages_reach_another_after_msg_timeout(
    tmp_path: Path, nsqd: Nsqd
) -> None:
    db_path = tmp_path / "taskdash.db"
    env = clean_env(
        TASKDASH_STORE_URL=f"sqlite:///{db_path}",
        TASKDASH_NSQD_TCP_ADDRESSES=nsqd.tcp_address,
        TASKDASH_NSQ_MSG_TIMEOUT_S=str(MSG_TIMEOUT_S),
        TASKDASH_EVENTS_TOPIC="",
    )
    with serve_process(tmp_path, env=env, name="first") as first:
        # Another writer holds the database: the first instance takes the messages and waits.
        blocker = sqlite3.connect(db_path, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            nsqd.mpub("taskRegister", bodies(0, MESSAGES))
            wait_until(lambda: nsqd.channel_depth("taskRegister", "taskdash") == (0, MESSAGES))
            first.kill()  # kill -9 with every message in flight
            killed_at = time.monotonic()
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    with serve_process(tmp_path, env=env, name="second"):
        wait_until(
            lambda: (
                stored(db_path) == MESSAGES
                and nsqd.channel_depth("taskRegister", "taskdash") == (0, 0)
            ),
            timeout_s=NSQD_DEFAULT_MSG_TIMEOUT_S / 2,
            step_s=0.1,
        )
        elapsed = time.monotonic() - killed_at
    print(
        f"\n{MESSAGES} in-flight messages stored by another instance {elapsed:.1f} s after kill -9"
    )
    assert elapsed < MSG_TIMEOUT_S + 10


def test_messages_are_stored_within_10_s_of_the_stores_return(tmp_path: Path, nsqd: Nsqd) -> None:
    ferretdb = FerretDb(tmp_path / "ferretdb").start()
    server = LiveServer(
        make_settings(
            tmp_path, store_url=ferretdb.url("taskdash"), nsqd_tcp_addresses=[nsqd.tcp_address]
        )
    ).start()
    try:
        ferretdb.stop()
        # Published at the outage's start: their retries are the furthest apart by its end.
        nsqd.mpub("taskRegister", bodies(0, MESSAGES))
        time.sleep(OUTAGE_S)  # the outage itself: nothing to wait for
        ferretdb = FerretDb(ferretdb.data_path, port=ferretdb.port).start()
        back_at = time.monotonic()
        mongo = ferretdb.client()
        try:
            wait_until(
                lambda: mongo.taskdash.tasks.count_documents({}) == MESSAGES,
                timeout_s=60,
                step_s=0.1,
            )
        finally:
            mongo.close()
        elapsed = time.monotonic() - back_at
        print(f"\n{MESSAGES} messages stored {elapsed:.1f} s after a {OUTAGE_S:.0f} s outage ended")
        assert elapsed <= STORED_AFTER_RECOVERY_S
    finally:
        server.stop()
        ferretdb.close()  # its PostgreSQL cluster lives outside tmp_path
