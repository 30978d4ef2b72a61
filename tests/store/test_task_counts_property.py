"""Property (issue 15 item 10): after any mix of task messages, claims, claim-nexts, releases,
assigns and expiries, the counts kept in the store equal a full recount of the tasks."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdash.domain.errors import TaskDashError
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import UNCLAIMED, TaskQuery
from taskdash.domain.ports import (
    AssignChange,
    ClaimRules,
    CountScope,
    Store,
    TaskCount,
    TaskMessageEnvelope,
)
from taskdash.store import open_store
from tests.ferretdb import FerretDb

IDENTITIES = [
    (p, f"{n:02d}", t) for p in ("p1", "p2") for t in ("satEdit", "vidEdit") for n in (1, 2)
]
STATUSES = ("", UNCLAIMED, "已领取", "编辑中", "已完成")
PEOPLE = (("ann", "g1"), ("bob", "g2"), ("cat", ""))
GROUPS = ("", "g1", "g2")
SCOPES = (
    CountScope(),
    CountScope(everyone=False, user="ann", groups=("", "g1")),
    CountScope(everyone=False, user="bob", checker=True, groups=("", "g2")),
)
NOW = 1_700_000_000.0

identity = st.integers(min_value=0, max_value=len(IDENTITIES) - 1)
someone = st.integers(min_value=0, max_value=len(PEOPLE) - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(("register", "update")), identity, st.sampled_from(STATUSES)),
        st.tuples(st.just("claim"), identity, someone),
        st.tuples(st.just("claim_next"), someone, st.sampled_from((None, "satEdit"))),
        st.tuples(st.just("release"), identity, st.booleans()),
        st.tuples(
            st.just("assign"),
            identity,
            st.sampled_from(("", "ann", "bob", None)),
            st.sampled_from(("", "bob", None)),
            st.sampled_from((*GROUPS, None)),
        ),
        st.tuples(st.just("expire")),
    ),
    min_size=1,
    max_size=30,
)


def task_id(index: int) -> str:
    project, number, task_type = IDENTITIES[index]
    return f"{project}-{number}-{task_type}"


def message(index: int, status: str) -> TaskMessage:
    project, number, task_type = IDENTITIES[index]
    return TaskMessage(
        id=task_id(index),
        project_id=project,
        instance_id="i1",
        task_id=number,
        status=status,
        task_type=task_type,
        url="http://127.0.0.1:18081/edit",
        edit_info="",
        create_time=1_600_000_000 + index % 3,
    )


def rules(person: int) -> ClaimRules:
    name, group = PEOPLE[person]
    return ClaimRules(
        user=name, user_group=group, max_claims=3, finished_statuses=("已完成",), offline_origins=()
    )


async def apply(store: Store, step: tuple[Any, ...], at: float) -> None:
    kind = step[0]
    if kind in ("register", "update"):
        envelope = TaskMessageEnvelope(
            kind=kind, message=message(step[1], step[2]), ts_ns=int(at * 1e9)
        )
        await store.tasks.apply_messages(envelopes=[envelope], now=at)
    elif kind == "claim":
        await store.tasks.claim(task_id=task_id(step[1]), rules=rules(step[2]), now=at)
    elif kind == "claim_next":
        await store.tasks.claim_next(
            rules=rules(step[1]), task_type=step[2], project_id=None, now=at
        )
    elif kind == "release":
        holder = None if step[2] else "ann"
        await store.tasks.release(
            task_id=task_id(step[1]), holder=holder, actor="boss", action="release", now=at
        )
    elif kind == "assign":
        change = AssignChange(user=step[2], checker=step[3], group=step[4])
        await store.tasks.assign(task_id=task_id(step[1]), change=change, actor="boss", now=at)
    else:
        await store.tasks.expire_claims(claimed_before=at, now=at, limit=100)


def counted(rows: list[TaskCount]) -> Counter[tuple[str, ...]]:
    return Counter(
        {(r.project_id, r.type, r.status, r.group, r.user, r.checker): r.n for r in rows if r.n}
    )


async def run(url: str, steps: list[tuple[Any, ...]]) -> None:
    store = await open_store(url)
    try:
        for index, step in enumerate(steps):
            # A refusal (not claimable, nothing to claim, the limit) changes nothing.
            with contextlib.suppress(TaskDashError):
                await apply(store, step, NOW + index)
        tasks = await store.tasks.find(TaskQuery(limit=1000))
        every = Counter((t.project_id, t.type, t.status, t.group, t.user, t.checker) for t in tasks)
        for scope in SCOPES:
            kept = await store.task_counts.counts(scope=scope, project=None, task_type=None)
            recounted = await store.task_counts.recount(scope=scope, project=None, task_type=None)
            assert counted(kept) == counted(recounted), scope
        everything = await store.task_counts.recount(scope=SCOPES[0], project=None, task_type=None)
        assert counted(everything) == every  # the recount itself counts every task
    finally:
        await store.aclose()


PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(steps=operations)
def test_sqlite_counts_equal_a_recount(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(f"sqlite:///{Path(tmp, 'counts.db')}", steps))


@PROPERTY_SETTINGS
@given(steps=operations)
def test_mongo_counts_equal_a_recount(ferretdb: FerretDb, steps: list[tuple[Any, ...]]) -> None:
    database = f"t{uuid.uuid4().hex}"
    try:
        asyncio.run(run(ferretdb.url(database), steps))
    finally:
        with ferretdb.client() as client:
            client.drop_database(database)
