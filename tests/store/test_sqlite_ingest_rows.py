"""SQLite's ingest path builds rows directly: they are the rules' tasks and history lines."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from taskdash.domain import rules
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import TaskQuery
from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.store import open_store
from taskdash.store.sqlite.task_rows import (
    RowsInsert,
    created_event_row,
    event_to_row,
    new_task_row,
    task_to_row,
)

OPTIONAL_TEXT = st.none() | st.sampled_from(("", "x", "框 2"))


@st.composite
def messages(draw: st.DrawFn) -> TaskMessage:
    return TaskMessage(
        id=draw(st.sampled_from(("a", "0123456789abcdef0123456789abcdef"))),
        project_id="p1",
        instance_id="i1",
        task_id="t1",
        status=draw(st.sampled_from(("", "待领取", "编辑中"))),
        task_type="satEdit",
        url=draw(st.none() | st.sampled_from(("", "http://h:81/e/1", "https://H/e", "nohost"))),
        edit_info=draw(OPTIONAL_TEXT),
        create_time=draw(st.none() | st.integers(-(2**63), 2**63 - 1)),
        reserved=draw(OPTIONAL_TEXT),
    )


@settings(max_examples=300, deadline=None)
@given(
    msg=messages(),
    kind=st.sampled_from(("register", "update", "metadata")),
    ts_ns=st.integers(0, 2**62),
    now=st.floats(0, 2e9),
)
def test_a_new_tasks_row_and_line_are_the_rules(
    msg: TaskMessage, kind: rules.MessageKind, ts_ns: int, now: float
) -> None:
    task = rules.new_task_from_message(msg, kind=kind, ts_ns=ts_ns, now=now)
    row = new_task_row(msg, kind=kind, ts_ns=ts_ns, now=now)
    assert row == task_to_row(task)
    assert [type(value) for value in row] == [type(value) for value in task_to_row(task)]
    event = rules.message_event(None, task, kind=kind, now=now)
    assert event is not None
    assert created_event_row(row, now=now) == event_to_row(event)[:-1]


def test_one_statement_holds_one_group_of_placeholders_a_row() -> None:
    insert = RowsInsert("INSERT INTO t (a, b)", 2, " ON CONFLICT(a) DO UPDATE SET b = excluded.b")
    assert insert.sql(2) == (
        "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT(a) DO UPDATE SET b = excluded.b"
    )


def test_statements_stay_within_sqlites_parameter_limit() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 5)  # two rows of two a statement
    rows = [(n, f"v{n}") for n in range(7)]
    RowsInsert("INSERT INTO t (a, b)", 2).run(conn, rows)
    assert conn.execute("SELECT a, b FROM t ORDER BY a").fetchall() == rows
    conn.close()


async def test_a_batch_larger_than_one_statement_is_stored_whole(tmp_path: Path) -> None:
    count = RowsInsert.ROWS_PER_STATEMENT * 2 + 7
    envelopes = [
        TaskMessageEnvelope(
            kind="register",
            message=TaskMessage(
                id=f"t{n:05d}",
                project_id="p",
                instance_id="i",
                task_id=str(n),
                status="",
                task_type="satEdit",
                create_time=n,
            ),
            ts_ns=n + 1,
        )
        for n in range(count)
    ]
    store = await open_store(f"sqlite:///{tmp_path / 'ingest.db'}")
    try:
        assert await store.tasks.apply_messages(envelopes=envelopes, now=time.time()) == count
        stored = await store.tasks.find(TaskQuery(limit=count + 1))
        assert [task.id for task in stored] == [f"t{n:05d}" for n in range(count)]
        lines = await store.tasks.events_after(seq=0, limit=count + 1)
        assert [(line.task_id, line.action) for line in lines] == [
            (f"t{n:05d}", "create") for n in range(count)
        ]
        # The same messages again change nothing (idempotent), and write nothing.
        assert await store.tasks.apply_messages(envelopes=envelopes, now=time.time()) == 0
        assert len(await store.tasks.events_after(seq=0, limit=count + 1)) == count
    finally:
        await store.aclose()
