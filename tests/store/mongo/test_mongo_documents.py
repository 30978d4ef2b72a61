"""The MongoDB backend as a Go reader of the seed's collections would see it, on FerretDB."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from bson.int64 import Int64
from pydantic import ValidationError
from pymongo.database import Database

from taskdash.domain.errors import BadRequest, StoreReadError, StoreWriteError
from taskdash.domain.events import parse_heartbeat, parse_service_registration, parse_task_message
from taskdash.domain.models import CLAIMED, UNCLAIMED, DeadLetter, Role, Session, TaskQuery, User
from taskdash.domain.ports import ClaimRules, Store, TaskMessageEnvelope
from taskdash.settings import Settings
from taskdash.store import open_store
from tests.ferretdb import FerretDb
from tests.support import free_port

SEED_TASK_KEYS = {
    "_id",
    "project_id",
    "instance_id",
    "task_id",
    "type",
    "url",
    "status",
    "time",
    "user",
    "checker",
    "group",
    "reserved",
}
SERVICE_URL = "http://127.0.0.1:18081"


def seed_task_body(**overrides: Any) -> bytes:
    body = {
        "ProjectID": "p1",
        "InstanceID": "i1",
        "TaskID": "t1",
        "TaskType": "satEdit",
        "URL": f"{SERVICE_URL}/edit?id=t1",
        "Status": "",
        "EditInfo": "",
        "CreateTime": 1_700_000_000,
    }
    body.update(overrides)
    return json.dumps(body).encode()


async def apply(store: Store, body: bytes, *, kind: str = "register") -> str:
    message = parse_task_message(body)
    envelope = TaskMessageEnvelope(kind=kind, message=message, ts_ns=time.time_ns())  # type: ignore[arg-type]
    await store.tasks.apply_messages(envelopes=[envelope], now=time.time())
    return message.id


async def test_a_task_is_stored_under_the_seeds_bson_names(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    task_id = await apply(store, seed_task_body())
    assert task_id == hashlib.md5(b"p1i1t1satEdit").hexdigest()
    doc = raw.tasks.find_one({"_id": task_id})
    assert doc is not None
    bookkeeping = {"edit_info", "claimed_at", "updated_at", "status_ts", "status_src"}
    field_times = {"fields_ts", "url_ts", "edit_info_ts", "time_ts", "reserved_ts"}
    history = {"pending_history", "pending_since"}  # the last write's lines (history.py)
    assert set(doc) == SEED_TASK_KEYS | bookkeeping | field_times | history | {"rev", "origin"}
    assert {key: doc[key] for key in SEED_TASK_KEYS} == {
        "_id": task_id,
        "project_id": "p1",
        "instance_id": "i1",
        "task_id": "t1",
        "type": "satEdit",
        "url": f"{SERVICE_URL}/edit?id=t1",
        "status": UNCLAIMED,
        "time": 1_700_000_000,
        "user": "",
        "checker": "",
        "group": "",
        "reserved": "",
    }
    assert isinstance(doc["time"], Int64)  # the seed's CreateTime is an int64
    assert (doc["origin"], doc["rev"], doc["claimed_at"]) == (SERVICE_URL, 1, None)


async def test_a_claim_and_an_update_are_visible_in_the_raw_document(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    task_id = await apply(store, seed_task_body())
    rules = ClaimRules(
        user="alice", user_group="", max_claims=0, finished_statuses=(), offline_origins=()
    )
    await store.tasks.claim(task_id=task_id, rules=rules, now=time.time())
    doc = raw.tasks.find_one({"_id": task_id})
    assert doc is not None
    assert (doc["user"], doc["status"], doc["rev"]) == ("alice", CLAIMED, 2)
    assert doc["claimed_at"] > 0
    await apply(store, seed_task_body(Status="已完成"), kind="update")
    doc = raw.tasks.find_one({"_id": task_id})
    assert doc is not None and (doc["user"], doc["status"]) == ("alice", "已完成")
    events = list(raw.task_events.find({"task_id": task_id}).sort("_id", 1))
    assert [(e["action"], e["to_status"]) for e in events] == [
        ("create", UNCLAIMED),
        ("claim", CLAIMED),
        ("update", "已完成"),
    ]
    assert [e["_id"] for e in events] == [1, 2, 3]  # the seq, from the counters collection
    assert raw.counters.find_one({"_id": "task_events"}) == {"_id": "task_events", "value": 3}


async def test_a_document_from_before_field_times_reads_as_of_fields_ts(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    task_id = await apply(store, seed_task_body(EditInfo="box"))
    raw.tasks.update_one(
        {"_id": task_id},
        {"$unset": {"url_ts": "", "edit_info_ts": "", "time_ts": "", "reserved_ts": ""}},
    )
    task = await store.tasks.get(task_id)
    assert task is not None
    assert {task.url_ts, task.edit_info_ts, task.time_ts, task.reserved_ts} == {task.fields_ts}
    bare = b'{"ProjectID":"p1","InstanceID":"i1","TaskID":"t1","TaskType":"satEdit","Status":"x"}'
    await apply(store, bare, kind="update")
    doc = raw.tasks.find_one({"_id": task_id})
    assert doc is not None
    assert (doc["url"], doc["edit_info"], doc["status"]) == (
        f"{SERVICE_URL}/edit?id=t1",
        "box",
        "x",
    )
    assert doc["url_ts"] == task.fields_ts < doc["fields_ts"]


async def test_services_and_heartbeats_are_stored_by_url(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    registration = parse_service_registration(
        json.dumps({"URL": f"{SERVICE_URL}/", "Name": "satEdit", "Reserved": "r"}).encode()
    )
    await store.services.register(reg=registration, ts_ns=time.time_ns(), now=time.time())
    beat = parse_heartbeat(
        json.dumps({"url": SERVICE_URL, "time": int(time.time()), "reserved": "b"}).encode()
    )
    await store.services.record_heartbeat(
        hb=beat, ts_ns=time.time_ns(), now=time.time(), timeout_s=90, max_skew_s=300
    )
    service = raw.services.find_one({"_id": SERVICE_URL})
    assert service is not None
    assert (service["name"], service["reserved"], service["beat_reserved"]) == ("satEdit", "r", "b")
    assert (service["origin"], service["online"]) == (SERVICE_URL, True)
    heartbeat = raw.heartbeats.find_one({"_id": SERVICE_URL})
    assert heartbeat is not None
    assert set(heartbeat) == {"_id", "time", "reserved", "ts", "service", "count"}
    assert (heartbeat["time"], heartbeat["reserved"]) == (beat.time, "b")
    assert (heartbeat["service"], heartbeat["count"]) == (SERVICE_URL, 1)


async def test_metadata_accounts_and_dead_letters_documents(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    record = parse_task_message(seed_task_body(Status="编辑中"))
    await store.metadata.save(records=[record], service=SERVICE_URL, now=time.time())
    metadata = raw.task_metadata.find_one({"_id": record.id})
    assert metadata is not None
    assert SEED_TASK_KEYS - {"user", "checker", "group"} <= set(metadata)
    assert (metadata["status"], metadata["service"]) == ("编辑中", SERVICE_URL)

    await store.accounts.add_user(User("bob", Role.CHECKER, "hash", group="g1", created_at=1.0))
    with pytest.raises(BadRequest):
        await store.accounts.add_user(User("bob", Role.ADMIN, "other"))
    assert raw.users.find_one({"_id": "bob"}) == {
        "_id": "bob",
        "role": int(Role.CHECKER),
        "password_hash": "hash",
        "group": "g1",
        "disabled": False,
        "lang": "zh",
        "created_at": 1.0,
        "name_key": "bob",  # unique: names are unique without regard to case
    }
    await store.accounts.add_session(Session("h1", "bob", 1.0, time.time() + 60))
    assert raw.sessions.find_one({"_id": "h1"}) is not None

    letter = DeadLetter(topic="heartBeat", body=b"{", reason="bad", attempts=1, at=1.5, key="k")
    await store.dead_letters.add([letter, letter])
    kept = {"_id": "k", "topic": "heartBeat", "body": b"{", "reason": "bad", "attempts": 1}
    sha256 = hashlib.sha256(b"{").hexdigest()
    short_id = int.from_bytes(hashlib.sha256(b"k").digest()[:8], "big") >> 1
    assert list(raw.dead_letters.find()) == [
        {**kept, "short_id": short_id, "at": 1.5, "size": 1, "sha256": sha256}
    ]
    [listed] = await store.dead_letters.recent(limit=1, before_id=None)
    assert listed.id == str(short_id)


async def test_dead_letters_page_newest_first_with_a_digit_cursor(store: Store) -> None:
    letters = [
        DeadLetter(topic="t", body=b"x", reason="r", attempts=1, at=float(i // 2), key=f"k{i}")
        for i in range(7)
    ]
    await store.dead_letters.add(letters)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.dead_letters.recent(limit=3, before_id=cursor)
        seen += [letter.key for letter in page]
        if len(page) < 3:
            break
        cursor = page[-1].id
        assert cursor.isdigit() and len(cursor) <= 19  # an int64, as on SQLite
    assert seen == ["k6", "k5", "k4", "k3", "k2", "k1", "k0"]
    for cursor in ("12345", "9" * 19, "9" * 20):
        with pytest.raises(BadRequest):
            await store.dead_letters.recent(limit=3, before_id=cursor)


async def test_dead_letters_kept_before_short_ids_are_listed_and_paged_with_them(
    mongo_url: str, raw: Database[dict[str, Any]]
) -> None:
    # As an earlier TaskDash kept them: no short_id; one also from before bounded bodies.
    old = {"topic": "t", "body": b"x", "reason": "r", "attempts": 1, "size": 1, "sha256": ""}
    raw.dead_letters.insert_many(
        [{**old, "_id": f"old{i}", "at": float(i)} for i in range(4)]
        + [{"_id": "older", "topic": "t", "body": b"y", "reason": "r", "attempts": 1, "at": 1.5}]
    )
    store = await open_store(mongo_url)
    try:
        await store.dead_letters.add(
            [DeadLetter(topic="t", body=b"z", reason="r", attempts=1, at=9.0, key="new")]
        )
        raw.dead_letters.insert_one({**old, "_id": "straggler", "at": 0.5})  # an old instance
        assert raw.dead_letters.count_documents({"short_id": {"$exists": True}}) == 6
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = await store.dead_letters.recent(limit=2, before_id=cursor)
            seen += [letter.key for letter in page]
            if len(page) < 2:
                break
            cursor = page[-1].id
            assert len(cursor) <= 19
        assert seen == ["new", "old3", "old2", "older", "old1", "straggler", "old0"]
        # The straggler got its short id stored when a cursor first named it.
        assert raw.dead_letters.count_documents({"short_id": {"$exists": True}}) == 7
    finally:
        await store.aclose()


TASK_INDEXES = {
    "tasks_unclaimed": [("status", 1), ("user", 1), ("time", 1), ("_id", 1)],
    "tasks_status": [("status", 1), ("time", 1), ("_id", 1)],
    "tasks_user": [("user", 1), ("time", 1), ("_id", 1)],
    "tasks_user_status": [("user", 1), ("status", 1)],
    "tasks_checker": [("checker", 1), ("time", 1), ("_id", 1)],
    "tasks_group": [("group", 1), ("time", 1), ("_id", 1)],
    "tasks_type": [("type", 1), ("time", 1), ("_id", 1)],
    "tasks_project": [("project_id", 1), ("time", 1), ("_id", 1)],
    "tasks_time": [("time", 1), ("_id", 1)],
    "tasks_claimed": [("claimed_at", 1)],
    "tasks_origin": [("origin", 1), ("status", 1)],
    "tasks_pending_history": [("pending_since", 1), ("_id", 1)],
}
OTHER_INDEXES = {
    "services": {"services_origin"},
    "heartbeats": {"heartbeats_service"},
    "task_metadata": {"task_metadata_service"},
    "users": {"users_group"},
    "sessions": {"sessions_user", "sessions_expiry"},
    "task_events": {"task_events_task", "task_events_key"},
    "dead_letters": {"dead_letters_at", "dead_letters_short_id"},
}


async def test_opening_the_store_creates_the_indexes(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    tasks = {index["name"]: list(index["key"].items()) for index in raw.tasks.list_indexes()}
    assert {name: tasks.get(name) for name in TASK_INDEXES} == TASK_INDEXES
    for collection, names in OTHER_INDEXES.items():
        assert names <= {index["name"] for index in raw[collection].list_indexes()}, collection
    second = await open_store(store.url)  # another instance starting finds them: no error
    await second.aclose()


async def test_every_list_filter_runs(store: Store) -> None:
    for i in range(6):
        await apply(store, seed_task_body(TaskID=f"t{i}", CreateTime=100 + i // 2))
    page = await store.tasks.find(TaskQuery(status=UNCLAIMED, user="", limit=2, newest_first=True))
    rest = await store.tasks.find(
        TaskQuery(
            status=UNCLAIMED,
            user="",
            limit=10,
            newest_first=True,
            after=(page[-1].time, page[-1].id),
            groups=("", "g"),
            exclude_origins=("http://elsewhere",),
        )
    )
    times = [t.time for t in page + rest]
    assert len({t.id for t in page + rest}) == 6 and times == sorted(times, reverse=True)


def test_settings_accept_mongodb_urls_that_name_a_database() -> None:
    assert Settings(store_url="mongodb://db1:27017,db2:27017/taskdash?replicaSet=rs").store_url
    for url in ("mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/", "mongodb://h/a.b"):
        with pytest.raises(ValidationError, match="database"):
            Settings(store_url=url)


async def test_a_down_server_answers_store_errors_quickly_and_recovers(tmp_path: Path) -> None:
    server = FerretDb(tmp_path / "ferretdb").start()
    store = await open_store(server.url("recovery"))
    try:
        await apply(store, seed_task_body())
        server.stop()
        started = time.monotonic()
        with pytest.raises(StoreReadError):
            await store.ping()
        with pytest.raises(StoreReadError):
            await store.tasks.find(TaskQuery())
        with pytest.raises(StoreWriteError):
            await apply(store, seed_task_body(TaskID="t2"))
        assert time.monotonic() - started < 10  # three calls, each bounded by about 2 s
        server = FerretDb(tmp_path / "ferretdb", port=server.port).start()
        await store.ping()  # the same client reconnects by itself
        assert len(await store.tasks.find(TaskQuery())) == 1
    finally:
        await store.aclose()
        server.close()


async def test_opening_a_store_on_a_down_server_fails_with_a_store_error() -> None:
    started = time.monotonic()
    with pytest.raises(StoreWriteError, match="indexes"):
        await open_store(f"mongodb://127.0.0.1:{free_port()}/taskdash")
    assert time.monotonic() - started < 5
