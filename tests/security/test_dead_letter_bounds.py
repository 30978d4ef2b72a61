"""A dead letter keeps only the start of a big body, with its size and SHA-256 (issue 10, item 5).

Before, a message was dead-lettered whole (a 100 MB /pub: +187 MB of database) and a page of
dead letters answered all of them (111 MB). Now a letter keeps at most 64 KiB of its body and a
capped reason, whatever path made it (HTTP ingest, NSQ, metadata pulls), on both stores; a page
stays small; and letters kept whole by an older TaskDash are cut when the store opens.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from taskdash.domain.models import DeadLetter
from taskdash.store import mongodb_database, open_store
from taskdash.store.copy import copy_store
from taskdash.store.sqlite.schema import MIGRATIONS
from tests.ferretdb import FerretDb
from tests.servers import Nsqd
from tests.support import LiveServer, free_port, run_on_store, wait_until

KEPT_BYTES = 64 * 1024
MAX_REASON_CHARS = 1024
MIB = 1024 * 1024


def big_bad_body(n: int, size: int = MIB) -> bytes:
    """Not JSON, `size` bytes, different for each n (so each is its own letter)."""
    head = f"not json {n} ".encode()
    return head + b"x" * (size - len(head))


def letters_in_store(server: LiveServer) -> list[DeadLetter]:
    letters: list[DeadLetter] = run_on_store(
        server.settings, lambda store: store.dead_letters.recent(limit=500, before_id=None)
    )
    return letters


def assert_kept_as_start(letter: dict[str, Any], body: bytes) -> None:
    assert letter["size"] == len(body)
    assert letter["sha256"] == hashlib.sha256(body).hexdigest()
    assert letter["truncated"] is True
    assert letter["body"].encode() == body[:KEPT_BYTES]


def test_a_big_message_is_kept_as_its_start_with_size_and_sha256(server: LiveServer) -> None:
    server.add_user("root", "admin")
    pubbed = big_bad_body(0)
    assert server.pub("taskRegister", pubbed).text == "OK"
    mpubbed = [big_bad_body(n) for n in (1, 2, 3, 4)]  # 4 MiB: within nsqd's /mpub limit
    server.publish("heartBeat", mpubbed)

    stored = letters_in_store(server)
    assert len(stored) == 5
    assert all(len(letter.body) == KEPT_BYTES and letter.size == MIB for letter in stored)

    page = server.login("root").get("/api/v1/dead-letters").json()
    by_sha = {item["sha256"]: item for item in page["items"]}
    for body in [pubbed, *mpubbed]:
        assert_kept_as_start(by_sha[hashlib.sha256(body).hexdigest()], body)


def test_a_page_of_dead_letters_stays_small(server: LiveServer) -> None:
    server.add_user("root", "admin")
    for first in range(0, 12, 4):
        server.publish("updateStatus", [big_bad_body(n) for n in range(first, first + 4)])
    admin = server.login("root")

    page = admin.get("/api/v1/dead-letters")  # 50 a page: each letter's whole kept start
    assert page.json()["total"] == 12
    assert len(page.content) < 12 * KEPT_BYTES + 16 * 1024, len(page.content)

    longest = admin.get("/api/v1/dead-letters", params={"limit": 500})  # less of each
    items = longest.json()["items"]
    assert len(items) == 12 and all(item["truncated"] for item in items)
    assert len(longest.content) < 12 * 8 * 1024 + 16 * 1024, len(longest.content)


def test_a_small_message_is_kept_whole_and_a_long_reason_is_cut(server: LiveServer) -> None:
    server.add_user("root", "admin")
    assert server.pub("heartBeat", b'{"url": 5}').text == "OK"
    letter = DeadLetter(
        topic="taskRegister", body=b"{}", reason="why " * 5000, attempts=5, at=1.0, key="k1"
    )
    run_on_store(server.settings, lambda store: store.dead_letters.add([letter]))

    items = server.login("root").get("/api/v1/dead-letters").json()["items"]
    small = next(item for item in items if item["topic"] == "heartBeat")
    assert (small["body"], small["size"], small["truncated"]) == ('{"url": 5}', 10, False)
    assert small["sha256"] == hashlib.sha256(b'{"url": 5}').hexdigest()
    cut = next(item for item in items if item["topic"] == "taskRegister")
    assert len(cut["reason"]) == MAX_REASON_CHARS and cut["reason"].endswith("…")


def test_a_big_message_from_nsq_is_kept_as_its_start(tmp_path: Path, server: LiveServer) -> None:
    """nsqd may be run with a bigger --max-msg-size; the letter stays bounded all the same."""
    nsqd = Nsqd(tmp_path / "nsqd", node_id=7, extra_args=("--max-msg-size=4194304",)).start()
    try:
        nsqd.create_channel("taskRegister", "taskdash")
        body = big_bad_body(9, size=3 * MIB)
        nsqd.pub("taskRegister", body)
        # A second instance on the same store consumes it.
        settings = server.settings.model_copy(
            update={"nsqd_tcp_addresses": [nsqd.tcp_address], "port": free_port()}
        )
        consumer = LiveServer(settings).start()
        try:
            wait_until(lambda: len(letters_in_store(server)) == 1, timeout_s=30)
        finally:
            consumer.stop()
    finally:
        nsqd.stop()
    [letter] = letters_in_store(server)
    assert (len(letter.body), letter.size) == (KEPT_BYTES, len(body))
    assert letter.sha256 == hashlib.sha256(body).hexdigest() and letter.truncated


def test_metadata_records_are_kept_bounded_too() -> None:
    """Letters of bad metadata records are built like any other: bounded, measured."""
    record = repr({"TaskID": "t" * 200_000}).encode()
    letter = DeadLetter(topic="metadata:x", body=record, reason="bad", attempts=1, at=1.0)
    assert (len(letter.body), letter.size) == (KEPT_BYTES, len(record))
    assert letter.sha256 == hashlib.sha256(record).hexdigest()


# --- letters kept whole by an older TaskDash --------------------------------------------------


def test_sqlite_letters_kept_whole_before_are_cut_when_the_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    body = big_bad_body(1, size=300_000)
    with sqlite3.connect(path, isolation_level=None) as conn:
        for migration in MIGRATIONS[:2]:  # the schema as TaskDash aea8692 left it
            for statement in migration.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute("PRAGMA user_version=2")
        conn.execute(
            "INSERT INTO dead_letters (key, topic, body, reason, attempts, at)"
            " VALUES ('k', 'taskRegister', ?, ?, 1, 1.0)",
            (body, "r" * 5000),
        )
    conn.close()

    async def read() -> list[DeadLetter]:
        store = await open_store(f"sqlite:///{path}")
        try:
            return await store.dead_letters.recent(limit=10, before_id=None)
        finally:
            await store.aclose()

    [letter] = asyncio.run(read())
    assert (len(letter.body), letter.size) == (KEPT_BYTES, len(body))
    assert letter.body == body[:KEPT_BYTES]
    assert letter.sha256 == hashlib.sha256(body).hexdigest()
    assert len(letter.reason) == MAX_REASON_CHARS
    with sqlite3.connect(path) as conn:
        [(stored,)] = conn.execute("SELECT length(body) FROM dead_letters").fetchall()
    conn.close()
    assert stored == KEPT_BYTES


def test_mongodb_letters_kept_whole_before_are_cut_when_the_store_opens(
    ferretdb: FerretDb, mongo_url: str
) -> None:
    body = big_bad_body(2, size=300_000)
    with ferretdb.client() as client:
        raw = client[mongodb_database(mongo_url)]
        old = {"_id": "k", "topic": "heartBeat", "body": body, "reason": "r", "attempts": 1}
        raw.dead_letters.insert_one({**old, "at": 1.0})

        async def read() -> list[DeadLetter]:
            store = await open_store(mongo_url)
            try:
                return await store.dead_letters.recent(limit=10, before_id=None)
            finally:
                await store.aclose()

        [letter] = asyncio.run(read())
        assert (len(letter.body), letter.size) == (KEPT_BYTES, len(body))
        assert letter.sha256 == hashlib.sha256(body).hexdigest()
        document = raw.dead_letters.find_one({"_id": "k"})
        assert document is not None and len(document["body"]) == KEPT_BYTES
        assert document["size"] == len(body)


def test_store_copy_keeps_a_letters_start_size_and_sha256(tmp_path: Path, mongo_url: str) -> None:
    """SQLite -> MongoDB -> SQLite: the kept start, the whole size and SHA-256 all survive."""
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    body = big_bad_body(3, size=200_000)
    letter = DeadLetter(topic="heartBeat", body=body, reason="bad", attempts=2, at=1.0, key="k")

    async def copy_there_and_back() -> list[DeadLetter]:
        store = await open_store(first)
        try:
            await store.dead_letters.add([letter])
        finally:
            await store.aclose()
        await copy_store(source_url=first, target_url=mongo_url)
        await copy_store(source_url=mongo_url, target_url=second)
        store = await open_store(second)
        try:
            return await store.dead_letters.recent(limit=10, before_id=None)
        finally:
            await store.aclose()

    [copied] = asyncio.run(copy_there_and_back())
    assert (copied.body, copied.size, copied.sha256) == (
        body[:KEPT_BYTES],
        len(body),
        hashlib.sha256(body).hexdigest(),
    )
