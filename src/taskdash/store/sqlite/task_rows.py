"""Tasks and their history lines as SQLite rows, derived from the one task record."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from taskdash.domain.events import TaskMessage
from taskdash.domain.models import (
    TASK_EVENT_FIELDS,
    UNCLAIMED,
    StatusSource,
    Task,
    TaskEvent,
    url_origin,
)
from taskdash.domain.rules import MessageKind
from taskdash.domain.task_record import TASK_FIELDS, FieldKind

Row = tuple[Any, ...]


def quoted(name: str) -> str:
    """A column name as SQL (quoted, since some, like `group`, are keywords)."""
    return f'"{name}"'


COLUMNS = tuple(quoted(field.stored) for field in TASK_FIELDS)
_ATTRS = tuple(field.attr for field in TASK_FIELDS)
# What a row holds differently from the Task: (position, to the row, from the row).
_CONVERTED: tuple[tuple[int, Callable[[Any], Any], Callable[[Any], Any]], ...] = tuple(
    (index, int, StatusSource)
    for index, field in enumerate(TASK_FIELDS)
    if field.kind is FieldKind.STATUS_SOURCE
)


# Whether a row's values are Task's fields in order (then a Task is built from them directly).
_IN_TASK_ORDER = tuple(field.name for field in dataclasses.fields(Task)) == _ATTRS


def row_to_task(row: sqlite3.Row | Row) -> Task:
    values = list(row)
    for index, _, from_row in _CONVERTED:
        values[index] = from_row(values[index])
    if _IN_TASK_ORDER:
        return Task(*values)
    return Task(**dict(zip(_ATTRS, values, strict=True)))


def task_to_row(task: Task) -> Row:
    values = [getattr(task, attr) for attr in _ATTRS]
    for index, to_row, _ in _CONVERTED:
        values[index] = to_row(values[index])
    return tuple(values)


class RowsInsert:
    """An INSERT of many rows a statement: `INSERT INTO t (...) VALUES (?, ...), (?, ...) tail`.

    `executemany` gives up the GIL around every row's step and then waits to take it back from
    the event loop's thread (bench/FINDINGS.md: a convoy when the loop is busy); one statement
    for a whole batch waits once.
    """

    ROWS_PER_STATEMENT = 500

    def __init__(self, head: str, width: int, tail: str = "") -> None:
        self.head, self.tail, self.width = head, tail, width
        self.one_row = f"({', '.join('?' * width)})"

    def sql(self, rows: int) -> str:
        return f"{self.head} VALUES {', '.join([self.one_row] * rows)}{self.tail}"

    def run(self, conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
        # SQLite before 3.32 takes at most 999 parameters a statement, later ones 32,766.
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        step = max(1, min(self.ROWS_PER_STATEMENT, limit // self.width))
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            conn.execute(self.sql(len(part)), [value for row in part for value in row])


EVENT_COLUMNS = tuple(quoted(name) for name in (*TASK_EVENT_FIELDS, "seq"))
_INSERT_EVENTS = RowsInsert(
    f"INSERT INTO task_events ({', '.join(EVENT_COLUMNS[:-1])})", len(TASK_EVENT_FIELDS)
)
SELECT_EVENTS = f"SELECT {', '.join(EVENT_COLUMNS)} FROM task_events"


def event_to_row(event: TaskEvent) -> Row:
    """The line's values in EVENT_COLUMNS order (its `seq` last)."""
    return (*(getattr(event, name) for name in TASK_EVENT_FIELDS), event.seq)


def row_to_event(row: sqlite3.Row | Row) -> TaskEvent:
    return TaskEvent(**dict(zip((*TASK_EVENT_FIELDS, "seq"), row, strict=True)))


def record_events(conn: sqlite3.Connection, events: Sequence[TaskEvent]) -> None:
    """Append history lines; SQLite gives each its `seq`."""
    insert_event_rows(conn, [event_to_row(event)[:-1] for event in events])


def insert_event_rows(conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
    """Append history lines given as rows without their `seq` (SQLite gives it)."""
    _INSERT_EVENTS.run(conn, rows)


_ID, _STATUS = _ATTRS.index("id"), _ATTRS.index("status")


def new_task_row(msg: TaskMessage, *, kind: MessageKind, ts_ns: int, now: float) -> Row:
    """The row of `rules.new_task_from_message(...)`, built without the Task (ingest's hot path).

    Spelled out in COLUMNS order for speed; a test holds it equal to the rule's task.
    """
    url, edit_info, create_time, reserved = msg.url, msg.edit_info, msg.create_time, msg.reserved
    return (
        msg.id,
        msg.project_id,
        msg.instance_id,
        msg.task_id,
        msg.task_type,
        url or "",
        msg.status or UNCLAIMED,
        create_time or 0,
        "",
        "",
        "",
        reserved or "",
        edit_info or "",
        url_origin(url) if url else "",
        None,
        now,
        ts_ns,
        int(StatusSource.REGISTER if kind == "register" else StatusSource.UPDATE),
        ts_ns,
        1,
        0 if url is None else ts_ns,
        0 if edit_info is None else ts_ns,
        0 if create_time is None else ts_ns,
        0 if reserved is None else ts_ns,
    )


def created_event_row(task_row: Row, *, now: float) -> Row:
    """The history line of `new_task_row`'s task (`rules.message_event` of a creation), no seq."""
    return (task_row[_ID], now, "service", "create", "", task_row[_STATUS], "", "", "")
