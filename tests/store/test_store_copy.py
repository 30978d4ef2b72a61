"""`taskdash store copy`: SQLite -> MongoDB (FerretDB) -> SQLite keeps every record as it was.

The round trip runs at 20 k tasks: ten pages of the copy's batch size, which shows the copy reads
and writes page by page (each step of its progress is at most one batch) as well as 100 k would.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from taskdash.actions import accounts
from taskdash.domain.events import Heartbeat, ServiceRegistration, TaskMessage
from taskdash.domain.models import DeadLetter, Role, Session, User, derive_task_id
from taskdash.domain.ports import AssignChange, ClaimRules, Store, TaskMessageEnvelope
from taskdash.store import open_store
from taskdash.store.copy import (
    COLLECTIONS,
    DEFAULT_BATCH_SIZE,
    CollectionCopy,
    CopyProgress,
    copy_store,
)
from tests.processes import TASKDASH_SCRIPT, clean_env

TASKS = 20_000
SMALL = 2_000
LOAD_BATCH = 5_000
SATEDIT = "http://127.0.0.1:18081/TaskDash"
VIDEDIT = "http://127.0.0.1:18082"
T0 = 1_700_000_000.0
CLI_TIMEOUT_S = 600


def register(n: int) -> TaskMessage:
    task_type = "satEdit" if n % 3 else "vidEdit"
    project, instance, task_id = f"项目{n % 7}", f"inst-{n % 11}", f"{n:06d}"
    return TaskMessage(
        id=derive_task_id(project, instance, task_id, task_type),
        project_id=project,
        instance_id=instance,
        task_id=task_id,
        status="",
        task_type=task_type,
        url=f"{SATEDIT if n % 3 else VIDEDIT}/edit?task={n}",
        edit_info=f'{{"frame": {n % 97}}}' if n % 5 == 0 else "",
        create_time=1_596_174_701 + n // 3,
        reserved="备注" if n % 13 == 0 else None,
    )


def envelopes(kind: Any, messages: list[TaskMessage], ts_ns: int) -> list[TaskMessageEnvelope]:
    return [TaskMessageEnvelope(kind, message, ts_ns + i) for i, message in enumerate(messages)]


async def fill(store: Store, count: int) -> None:
    """`count` tasks (loaded as messages are), some updated, claimed, assigned and released,
    plus every other kind of record the store keeps."""
    for start in range(0, count, LOAD_BATCH):
        batch = [register(n) for n in range(start, min(start + LOAD_BATCH, count))]
        await store.tasks.apply_messages(
            envelopes=envelopes("register", batch, 1_000 * start), now=T0 + start / 1000
        )
    # Updates that leave out URL and EditInfo: those keep the register's publish time.
    updates = [
        replace(register(n), status="编辑中" if n % 2 else "已完成", url=None, edit_info=None)
        for n in range(0, count, 7)
    ]
    for start in range(0, len(updates), LOAD_BATCH):
        await store.tasks.apply_messages(
            envelopes=envelopes("update", updates[start : start + LOAD_BATCH], 10**12), now=T0 + 200
        )
    password_hash = await accounts.hash_password("a long enough password")
    for name, role, group in (
        ("alice", Role.ANNOTATOR, "g1"),
        ("bob", Role.CHECKER, ""),
        ("carol", Role.ADMIN, "g2"),
    ):
        await store.accounts.add_user(
            User(name=name, role=role, password_hash=password_hash, group=group, created_at=T0)
        )
    await store.accounts.update_user(name="bob", disabled=True, lang="en")
    for n, user in enumerate(("alice", "alice", "carol")):
        await store.accounts.add_session(
            Session(token_hash=f"{n:064x}", user=user, created_at=T0 + n, expires_at=T0 + 9e4)
        )
    unclaimed = [register(n).id for n in range(1, count) if n % 7][:40]  # none was updated
    for n, task_id in enumerate(unclaimed[:40]):
        rules = ClaimRules("alice" if n % 2 else "carol", "g1", 0, ("已完成",), ())
        await store.tasks.claim(task_id=task_id, rules=rules, now=T0 + 300 + n)
    for n, task_id in enumerate(unclaimed[:10]):
        change = AssignChange(checker="bob", group="g1" if n % 2 else None)
        await store.tasks.assign(task_id=task_id, change=change, actor="carol", now=T0 + 400 + n)
    for task_id in unclaimed[:5]:
        await store.tasks.release(
            task_id=task_id, holder=None, actor="carol", action="release", now=T0 + 500
        )
    for url, name in ((SATEDIT, "satEdit"), (VIDEDIT, "vidEdit")):
        await store.services.register(
            reg=ServiceRegistration(url=url, name=name, reserved="{}"), ts_ns=10**18, now=T0
        )
    for url in (SATEDIT, "http://10.0.0.9:9999/unknown"):
        await store.services.record_heartbeat(
            hb=Heartbeat(url=url, time=int(T0), reserved="beat"),
            ts_ns=int(T0 * 1e9) + 7,
            now=T0 + 1,
            timeout_s=90,
            max_skew_s=300,
        )
    await store.services.record_metadata_sync(
        url=VIDEDIT, error="timed out after 5 s", now=T0, failures=2, next_at=T0 + 60
    )
    await store.metadata.save(
        records=[replace(register(n), reserved="r") for n in range(0, 300, 3)],
        service=SATEDIT,
        now=T0 + 600,
    )
    await store.dead_letters.add(
        [
            DeadLetter(
                topic="taskRegister",
                body=b"\xff not json " + bytes([n]),
                reason=f"bad JSON #{n}",
                attempts=1 + n % 5,
                at=T0 + 700 + n % 4,  # ties on `at`, broken by key
                key=f"dl-{n:03d}",
            )
            for n in range(30)
        ]
    )
    assert await store.coordination.advance_cursor(name="task-events", expected=0, to=count // 2)


async def contents(store: Store) -> dict[str, list[object]]:
    """Every record of every collection, in key order, as the copy compares them."""
    found: dict[str, list[object]] = {}
    for collection in COLLECTIONS:
        records: list[object] = []
        async for page in collection.table(store.contents).pages(size=5_000, in_key_order=True):
            records += [collection.content(r) for r in page]
        found[collection.name] = records
    return found


def opened(url: str, action: Callable[[Store], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        store = await open_store(url)
        try:
            return await action(store)
        finally:
            await store.aclose()

    return asyncio.run(run())


class Steps:
    """The copy's progress as it reports it: how many records each collection had read, per step."""

    def __init__(self) -> None:
        self.done: dict[str, list[int]] = {}

    def __call__(self, progress: CopyProgress) -> None:
        self.done.setdefault(progress.name, []).append(progress.done)

    def largest_step(self, name: str) -> int:
        done = self.done[name]
        return max(b - a for a, b in itertools.pairwise(done))


def copy(
    source: str, target: str, *, overwrite: bool = False, steps: Steps | None = None
) -> dict[str, CollectionCopy]:
    started = time.perf_counter()
    copies = asyncio.run(
        copy_store(
            source_url=source,
            target_url=target,
            overwrite=overwrite,
            on_progress=steps or (lambda _: None),
        )
    )
    elapsed_s = time.perf_counter() - started
    print(f"\ncopy {source.split(':')[0]} -> {target.split(':')[0]}: {elapsed_s:.1f} s")
    for done in copies:
        print("  " + done.summary())
    return {done.name: done for done in copies}


def taskdash_copy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TASKDASH_SCRIPT), "store", "copy", *args],
        capture_output=True,
        text=True,
        env=clean_env(TASKDASH_LOG_LEVEL="WARNING"),
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


@pytest.mark.timeout(300)
def test_20k_tasks_round_trip_sqlite_mongodb_sqlite_page_by_page(
    tmp_path: Path, mongo_url: str
) -> None:
    first, second = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
    started = time.perf_counter()
    opened(first, lambda store: fill(store, TASKS))
    print(f"\nloaded {TASKS} tasks into SQLite: {time.perf_counter() - started:.1f} s")
    original = opened(first, contents)
    assert len(original["tasks"]) == TASKS
    assert any(task.url_ts < task.fields_ts for task in original["tasks"])
    assert sum(1 for e in original["task_events"] if e.action == "create") == TASKS

    there, home = Steps(), Steps()
    to_mongo = copy(first, mongo_url, steps=there)
    back = copy(mongo_url, second, steps=home)
    for name, records in original.items():
        assert to_mongo[name].read == to_mongo[name].written == len(records), name
        assert back[name].read == back[name].written == len(records), name
    # Page by page in both directions: never more than one batch read between two writes.
    for steps in (there, home):
        assert len(steps.done["tasks"]) >= TASKS // DEFAULT_BATCH_SIZE + 1
        assert steps.largest_step("tasks") == DEFAULT_BATCH_SIZE
        assert steps.largest_step("task_events") == DEFAULT_BATCH_SIZE
    assert opened(second, contents) == original

    # What the copy wrote into MongoDB is what the MongoDB store itself reads and writes.
    task = original["tasks"][0]
    assert opened(mongo_url, lambda store: store.tasks.get(task.id)) == task
    alice = opened(mongo_url, lambda store: store.accounts.get_session(token_hash="0" * 64, now=T0))
    assert alice is not None and alice.user == "alice"
    letters = opened(mongo_url, lambda store: store.dead_letters.recent(limit=3, before_id=None))
    assert [d.key for d in letters] == ["dl-027", "dl-023", "dl-019"]
    with MongoClient(mongo_url) as client:
        counter = client.get_default_database().counters.find_one({"_id": "task_events"})
    assert counter is not None and counter["value"] == original["task_events"][-1].seq

    again = copy(mongo_url, second, overwrite=True)
    assert {name: done.written for name, done in again.items()} == dict.fromkeys(original, 0)
    assert opened(second, contents) == original


def test_overwrite_writes_only_what_changed_in_both_directions(
    tmp_path: Path, mongo_url: str
) -> None:
    first, third = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'third.db'}"
    opened(first, lambda store: fill(store, SMALL))

    done = taskdash_copy("--from", first, "--to", mongo_url)
    assert done.returncode == 0, done.stderr
    summary = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert summary["tasks"].startswith(f"{SMALL} read, {SMALL} written in ")
    assert "[" + "#" * 30 + "]" in done.stderr  # the finished bar of each collection

    async def change(store: Store) -> None:
        rules = ClaimRules("alice", "g1", 0, ("已完成",), ())
        await store.tasks.claim(task_id=register(2).id, rules=rules, now=T0 + 900)
        await store.accounts.update_user(name="carol", group="g3")

    opened(first, change)
    again = taskdash_copy("--from", first, "--to", mongo_url, "--overwrite")
    assert again.returncode == 0, again.stderr
    written = {
        name: int(text.split(", ")[1].split()[0])
        for name, text in (line.split(": ", 1) for line in again.stdout.splitlines())
    }
    assert written == {**dict.fromkeys(written, 0), "tasks": 1, "task_events": 1, "users": 1}

    back = copy(mongo_url, third)
    assert all(done.read == done.written for done in back.values())
    assert opened(third, contents) == opened(first, contents)


def test_a_target_that_holds_records_is_refused_without_overwrite(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
    opened(first, lambda store: fill(store, 50))
    opened(second, lambda store: store.accounts.add_user(User("dave", Role.ADMIN, "x")))

    refused = taskdash_copy("--from", first, "--to", second)
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert line.startswith("taskdash: the target store is not empty (users: 1)")
    assert "--overwrite" in line
    assert refused.stdout == ""
    assert opened(second, lambda store: store.accounts.list_users())[0].name == "dave"
    assert len(opened(second, contents)["tasks"]) == 0

    same = taskdash_copy("--from", first, "--to", first)
    assert same.returncode == 2 and "same store" in same.stderr
