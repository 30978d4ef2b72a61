"""Rows and documents are the one task record: the SQLite DDL and both mappings match it."""

from __future__ import annotations

import sqlite3

from bson.int64 import Int64

from taskdash.domain.models import CLAIMED, TASK_EVENT_FIELDS, StatusSource, Task, TaskEvent
from taskdash.domain.task_record import TASK_FIELDS, FieldKind
from taskdash.store.mongo.history import document_to_event, event_to_document
from taskdash.store.mongo.task_documents import document_to_task, task_to_document
from taskdash.store.sqlite import task_rows
from taskdash.store.sqlite.schema import migrate

SQL_TYPES = {
    FieldKind.TEXT: "TEXT",
    FieldKind.INT64: "INTEGER",
    FieldKind.INT: "INTEGER",
    FieldKind.STATUS_SOURCE: "INTEGER",
    FieldKind.FLOAT: "REAL",
    FieldKind.OPTIONAL_FLOAT: "REAL",
}


def a_task() -> Task:
    return Task(
        "id1",
        "p1",
        "i1",
        "t1",
        "satEdit",
        url="http://s/1",
        status=CLAIMED,
        time=1_700_000_000,
        user="ann",
        group="g",
        claimed_at=12.5,
        updated_at=13.0,
        status_ts=2,
        status_src=StatusSource.UPDATE,
        fields_ts=3,
        rev=4,
        url_ts=5,
    )


def table_columns(table: str) -> dict[str, tuple[str, bool]]:
    """Each column of `table` after every migration: its type and whether it may be NULL."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn)
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        conn.close()
    return {name: (kind, not notnull) for _, name, kind, notnull, _, _ in rows}


def test_the_sqlite_ddl_has_the_records_task_columns() -> None:
    expected = {
        field.stored: (SQL_TYPES[field.kind], field.kind is FieldKind.OPTIONAL_FLOAT)
        for field in TASK_FIELDS
    }
    assert table_columns("tasks") == expected


def test_the_sqlite_ddl_has_the_history_line_columns() -> None:
    assert set(table_columns("task_events")) == {*TASK_EVENT_FIELDS, "seq"}


def test_a_task_row_and_back() -> None:
    task = a_task()
    row = task_rows.task_to_row(task)
    assert len(row) == len(task_rows.COLUMNS) == len(TASK_FIELDS)
    assert row[[f.attr for f in TASK_FIELDS].index("status_src")] == 1
    assert task_rows.row_to_task(row) == task
    assert isinstance(task_rows.row_to_task(row).status_src, StatusSource)


def test_a_history_line_row_and_back() -> None:
    event = TaskEvent("id1", 1.5, "ann", "claim", "a", "b", "", "ann", "d", seq=9)
    assert task_rows.row_to_event(task_rows.event_to_row(event)) == event


def test_a_task_document_has_the_bson_names_and_types() -> None:
    doc = task_to_document(a_task())
    assert list(doc) == [field.stored for field in TASK_FIELDS]
    for field in TASK_FIELDS:
        if field.kind is FieldKind.INT64:
            assert type(doc[field.stored]) is Int64, field
    assert type(doc["status_src"]) is int and type(doc["rev"]) is int
    assert document_to_task(doc) == a_task()


def test_a_history_line_document_and_back() -> None:
    event = TaskEvent("id1", 1.5, "ann", "claim", "a", "b", "", "ann", "d", seq=9)
    doc = event_to_document(event, written_at=2.0)
    assert doc == {"_id": 9, **{name: getattr(event, name) for name in TASK_EVENT_FIELDS}} | {
        "written_at": 2.0
    }
    assert document_to_event(doc) == event
