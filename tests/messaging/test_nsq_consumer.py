"""The NSQ consumer against real nsqd processes."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from taskdash.domain.models import TaskQuery
from tests.servers import Nsqd, Nsqlookupd
from tests.support import (
    SERVICE_URL,
    TOPICS,
    LiveServer,
    make_settings,
    run_on_store,
    task_body,
    task_id_of,
    wait_until,
)


def body(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def stored_tasks(server: LiveServer) -> dict[str, Any]:
    async def read(store: Any) -> dict[str, Any]:
        return {t.id: t for t in await store.tasks.find(TaskQuery(limit=100_000))}

    return dict(run_on_store(server.settings, read))


def services(server: LiveServer) -> dict[str, Any]:
    async def read(store: Any) -> dict[str, Any]:
        return {s.url: s for s in await store.services.all()}

    return dict(run_on_store(server.settings, read))


def dead_letters(server: LiveServer) -> list[Any]:
    async def read(store: Any) -> list[Any]:
        return list(await store.dead_letters.recent(limit=100_000, before_id=None))

    return list(run_on_store(server.settings, read))


def test_all_four_topics_with_duplicates_and_reordering(nsqd: Nsqd, nsq_server: LiveServer) -> None:
    first = task_body("0001")
    second = task_body("0002")
    # The update of 0002 is published before its register; every message is published twice.
    messages = [
        ("updateStatus", task_body("0002", status="编辑中")),
        ("serviceRegister", {"URL": f"{SERVICE_URL}/TaskDash/", "Name": "satEdit", "Reserved": ""}),
        ("taskRegister", first),
        ("taskRegister", second),
        ("updateStatus", task_body("0001", status="已完成")),
        (
            "heartBeat",
            {"url": f"{SERVICE_URL}/TaskDash/", "time": int(time.time()), "reserved": ""},
        ),
    ]
    for topic, value in messages + messages:
        nsqd.pub(topic, body(value))
    wait_until(
        lambda: (
            len(stored_tasks(nsq_server)) == 2
            and nsqd.channel_depth("heartBeat", "taskdash") == (0, 0)
            and nsqd.channel_depth("updateStatus", "taskdash") == (0, 0)
        )
    )
    tasks = stored_tasks(nsq_server)
    assert tasks[task_id_of(first)].status == "已完成"
    assert tasks[task_id_of(second)].status == "编辑中"
    [service] = services(nsq_server).values()
    assert service.name == "satEdit" and service.online and service.last_beat_ts > 0
    assert dead_letters(nsq_server) == []


def test_lookupd_discovers_two_nsqd(tmp_path: Path) -> None:
    lookupd = Nsqlookupd(tmp_path / "lookupd").start()
    daemons = [
        Nsqd(tmp_path / f"nsqd{i}", node_id=i, lookupd_tcp=lookupd.tcp_address).start()
        for i in (1, 2)
    ]
    server = None
    try:
        for daemon in daemons:
            for topic in TOPICS:
                daemon.create_channel(topic, "taskdash")
        server = LiveServer(
            make_settings(
                tmp_path,
                nsqlookupd_http_addresses=[lookupd.http_address],
                nsq_lookupd_poll_interval_s=1,
            )
        ).start()
        for i, daemon in enumerate(daemons):
            daemon.mpub("taskRegister", [body(task_body(f"{i}-{n}")) for n in range(50)])
        wait_until(lambda: len(stored_tasks(server)) == 100, timeout_s=20)
    finally:
        if server:
            server.stop()
        for daemon in daemons:
            daemon.stop()
        lookupd.stop()


def test_a_poison_message_is_dead_lettered_once_and_the_rest_flows(
    nsqd: Nsqd, nsq_server: LiveServer
) -> None:
    bodies = [body(task_body(f"{n:04d}")) for n in range(200)]
    bodies.insert(100, b'{"ProjectID": 5, "oops"')
    nsqd.mpub("taskRegister", bodies)
    wait_until(
        lambda: (
            len(stored_tasks(nsq_server)) == 200
            and nsqd.channel_depth("taskRegister", "taskdash") == (0, 0)
        )
    )
    [letter] = dead_letters(nsq_server)
    assert letter.topic == "taskRegister" and "invalid JSON" in letter.reason


def test_store_refusing_writes_requeues_until_it_recovers(nsqd: Nsqd, tmp_path: Path) -> None:
    server = LiveServer(
        make_settings(tmp_path, nsqd_tcp_addresses=[nsqd.tcp_address], nsq_max_attempts=3)
    ).start()
    try:
        refuse_writes(server, True)
        nsqd.mpub("taskRegister", [body(task_body(f"{n:04d}")) for n in range(20)])
        wait_until(lambda: nsqd_requeued(nsqd) >= 20)
        assert stored_tasks(server) == {}
        refuse_writes(server, False)
        wait_until(lambda: len(stored_tasks(server)) == 20, timeout_s=30)
        assert dead_letters(server) == []
    finally:
        server.stop()


def nsqd_requeued(nsqd: Nsqd) -> int:
    for topic in nsqd.stats()["topics"]:
        if topic["topic_name"] == "taskRegister":
            return sum(int(c["requeue_count"]) for c in topic["channels"])
    return 0


def refuse_writes(server: LiveServer, refuse: bool) -> None:
    """Make the SQLite store refuse every task write (a trigger), or accept them again."""
    import sqlite3

    path = server.settings.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        if refuse:
            for event in ("INSERT", "UPDATE"):
                conn.execute(
                    f"CREATE TRIGGER IF NOT EXISTS refuse_{event.lower()} BEFORE {event} ON tasks"
                    " BEGIN SELECT RAISE(ABORT, 'store refuses writes (test)'); END"
                )
        else:
            conn.execute("DROP TRIGGER IF EXISTS refuse_insert")
            conn.execute("DROP TRIGGER IF EXISTS refuse_update")


def test_claims_and_releases_are_published_to_the_events_topic(
    nsqd: Nsqd, nsq_server: LiveServer
) -> None:
    nsqd.create_channel("taskEvents", "test")
    nsq_server.add_user("smq")
    nsqd.pub("taskRegister", body(task_body("0001")))
    wait_until(lambda: len(stored_tasks(nsq_server)) == 1)
    smq = nsq_server.login("smq")
    assert smq.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
    task_id = task_id_of(task_body("0001"))
    assert smq.post("/rpost/task", json={"operation": "TaskRelease", "ID": task_id}).json() == (
        "success"
    )
    events = read_messages(nsqd, "taskEvents", "test", count=3)
    assert [(e["action"], e["task_id"]) for e in events] == [
        ("create", task_id),
        ("claim", task_id),
        ("release", task_id),
    ]
    assert events[1]["to_user"] == "smq" and events[1]["to_status"] == "已领取"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


def read_messages(nsqd: Nsqd, topic: str, channel: str, *, count: int) -> list[dict[str, Any]]:
    """Read `count` messages from a channel with nsq_tail (a real NSQ consumer)."""
    import subprocess

    from tests.servers import tool

    out = subprocess.run(
        [
            str(tool("nsq_tail")),
            f"--nsqd-tcp-address={nsqd.tcp_address}",
            f"--topic={topic}",
            f"--channel={channel}",
            f"-n={count}",
        ],
        capture_output=True,
        timeout=30,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_nsqd_outage_of_ten_seconds_loses_nothing(nsqd: Nsqd, nsq_server: LiveServer) -> None:
    nsqd.create_channel("taskEvents", "test")
    nsq_server.add_user("smq")
    nsqd.mpub("taskRegister", [body(task_body(f"{n:04d}")) for n in range(2000)])
    wait_until(lambda: len(stored_tasks(nsq_server)) > 0)
    nsqd.stop()  # mid-stream: whatever is unacknowledged stays in nsqd's data path
    smq = nsq_server.login("smq")
    # TaskDash keeps working while nsqd is away; its task events wait in the store.
    assert smq.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
    time.sleep(10)  # the outage itself is the scenario under test
    nsqd.start()
    wait_until(lambda: len(stored_tasks(nsq_server)) == 2000, timeout_s=60)
    wait_until(lambda: nsqd.channel_depth("taskRegister", "taskdash") == (0, 0), timeout_s=30)
    events = read_messages(nsqd, "taskEvents", "test", count=2001)
    assert sum(e["action"] == "claim" for e in events) == 1
    assert sum(e["action"] == "create" for e in events) == 2000


def test_shutdown_drains_and_leaves_nothing_in_flight(
    nsqd: Nsqd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, nsqd_tcp_addresses=[nsqd.tcp_address])
    for start in range(0, 5000, 1000):
        nsqd.mpub("taskRegister", [body(task_body(f"{n:05d}")) for n in range(start, start + 1000)])
    server = LiveServer(settings).start()
    wait_until(lambda: len(stored_tasks(server)) > 0, step_s=0.005)
    server.stop()  # graceful: RDY 0, finish or requeue what is in flight, then close
    # A clean shutdown logs no error (pynsq reports each connection we close as one).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    depth, in_flight = nsqd.channel_depth("taskRegister", "taskdash")
    assert in_flight == 0, "a message was left in flight (it would wait for its timeout)"
    assert depth + len(stored_tasks(server)) >= 5000
    restarted = LiveServer(settings).start()
    try:
        wait_until(lambda: len(stored_tasks(restarted)) == 5000, timeout_s=30)
    finally:
        restarted.stop()


def test_a_message_that_keeps_failing_is_dead_lettered_and_the_rest_stored(
    nsqd: Nsqd, tmp_path: Path
) -> None:
    server = LiveServer(
        make_settings(tmp_path, nsqd_tcp_addresses=[nsqd.tcp_address], nsq_max_attempts=3)
    ).start()
    try:
        doomed = task_body("doomed")
        refuse_task(server, task_id_of(doomed))
        nsqd.mpub("taskRegister", [body(task_body(f"{n:04d}")) for n in range(50)] + [body(doomed)])
        wait_until(lambda: len(dead_letters(server)) == 1, timeout_s=30)
        [letter] = dead_letters(server)
        assert letter.attempts == 3 and "failed 3 attempts" in letter.reason
        assert json.loads(letter.body)["TaskID"] == "doomed"
        assert len(stored_tasks(server)) == 50
        wait_until(lambda: nsqd.channel_depth("taskRegister", "taskdash") == (0, 0))
    finally:
        server.stop()


def refuse_task(server: LiveServer, task_id: str) -> None:
    """Make the store refuse every write of one task (a trigger), as a broken row would."""
    import sqlite3

    path = server.settings.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TRIGGER refuse_one BEFORE INSERT ON tasks WHEN NEW._id = '{task_id}'"
            " BEGIN SELECT RAISE(ABORT, 'this task cannot be stored (test)'); END"
        )
