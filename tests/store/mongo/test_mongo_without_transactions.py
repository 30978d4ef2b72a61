"""What keeps MongoDB right without transactions where the usual path is not enough: a claim
lease that expired under its holder, and history lines a writer left on a task."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pymongo.database import Database

from taskdash.domain.errors import ClaimLimitReached, StoreWriteError
from taskdash.domain.models import CLAIMED, UNCLAIMED, TaskQuery
from taskdash.domain.ports import Store, TaskMessageEnvelope
from taskdash.store import open_store
from taskdash.store.mongo import claim_limit, history
from tests.store.test_store_contract import InsertFailsOnce, ingest, message, rules_for


async def test_claims_that_overlap_past_their_lease_never_exceed_the_limit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every lease has expired by the time the next claim asks for it: nothing is lined up, as
    # when each holder stalls past the TTL. The count after each claim alone keeps the limit.
    monkeypatch.setattr(claim_limit, "CLAIM_LEASE_TTL_S", -1.0)
    await ingest(store, *(message(i) for i in range(30)))
    rules = rules_for("a", max_claims=5)
    outcomes = await asyncio.gather(
        *(
            store.tasks.claim(task_id=f"task-{i:05d}", rules=rules, now=time.time())
            for i in range(30)
        ),
        return_exceptions=True,
    )
    won = {o.id for o in outcomes if not isinstance(o, BaseException)}
    assert all(isinstance(o, ClaimLimitReached) for o in outcomes if isinstance(o, BaseException))
    assert len(won) <= 5  # fewer when overlapping claims all saw each other: never more
    held = await store.tasks.find(TaskQuery(user="a", limit=100))
    assert {t.id for t in held} == won and all(t.status == CLAIMED for t in held)
    for number in range(30):
        task_id = f"task-{number:05d}"
        if task_id in won:
            continue
        task = await store.tasks.get(task_id)
        assert task is not None and (task.user, task.status) == ("", UNCLAIMED)
        actions = [e.action for e in await store.tasks.history(task_id=task_id, limit=10)]
        assert actions in (["create"], ["release", "claim", "create"])  # given back, once


async def test_lines_a_stopped_writer_left_on_a_task_are_completed_by_the_next_instance(
    mongo_url: str, raw: Database[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await open_store(mongo_url)
    try:
        events = first.tasks._history._events  # type: ignore[attr-defined]
        first.tasks._history._events = InsertFailsOnce(events, applied=False)  # type: ignore[attr-defined]
        registers = [
            TaskMessageEnvelope("register", message(n), ts_ns=time.time_ns()) for n in range(5)
        ]
        with pytest.raises(StoreWriteError):
            await first.tasks.apply_messages(envelopes=registers, now=time.time())
    finally:
        await first.aclose()  # and the messages are never delivered again
    for task in raw.tasks.find():
        assert [line["action"] for line in task["pending_history"]] == ["create"]
    assert raw.task_events.count_documents({}) == 0

    monkeypatch.setattr(history, "STALE_PENDING_S", 0.0)  # as if STALE_PENDING_S had passed
    monkeypatch.setattr(history, "PENDING_SWEEP_BATCH", 2)  # the sweep goes on page by page
    for _ in range(2):  # the next instance completes them; one after that finds nothing to do
        second = await open_store(mongo_url)
        await second.aclose()
        created = sorted(e["task_id"] for e in raw.task_events.find({"action": "create"}))
        assert created == [f"task-{n:05d}" for n in range(5)]
        assert raw.task_events.count_documents({}) == 5


async def test_readers_pass_a_seq_left_unused_by_a_line_stored_twice_at_once(
    store: Store, raw: Database[dict[str, Any]]
) -> None:
    await store.tasks.apply_messages(
        envelopes=[TaskMessageEnvelope("register", message(1), ts_ns=time.time_ns())],
        now=time.time(),
    )
    # A second writer that looked the task's lines up before the first writer's insert landed
    # copies them too: its seq (2) stays unused.
    task = raw.tasks.find_one({"_id": "task-00001"})
    assert task is not None
    await store.tasks._history.insert(task["pending_history"])  # type: ignore[attr-defined]
    await store.tasks.claim(task_id="task-00001", rules=rules_for("a"), now=time.time())
    assert sorted(e["_id"] for e in raw.task_events.find()) == [1, 3]
    # Seq 2 is known unused, so a reader gets both lines now, not GAP_GRACE_S later.
    assert [e.action for e in await store.tasks.events_after(seq=0, limit=10)] == [
        "create",
        "claim",
    ]
