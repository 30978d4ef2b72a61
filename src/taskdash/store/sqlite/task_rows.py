"""Tasks and their history lines as SQLite rows, derived from the one task record."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from taskdash.domain.models import TASK_EVENT_FIELDS, StatusSource, Task, TaskEvent
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


def row_to_task(row: sqlite3.Row | Row) -> Task:
    values = list(row)
    for index, _, from_row in _CONVERTED:
        values[index] = from_row(values[index])
    return Task(**dict(zip(_ATTRS, values, strict=True)))


def task_to_row(task: Task) -> Row:
    values = [getattr(task, attr) for attr in _ATTRS]
    for index, to_row, _ in _CONVERTED:
        values[index] = to_row(values[index])
    return tuple(values)


EVENT_COLUMNS = tuple(quoted(name) for name in (*TASK_EVENT_FIELDS, "seq"))
_INSERT_EVENTS = (
    f"INSERT INTO task_events ({', '.join(EVENT_COLUMNS[:-1])})"
    f" VALUES ({', '.join('?' * len(TASK_EVENT_FIELDS))})"
)
SELECT_EVENTS = f"SELECT {', '.join(EVENT_COLUMNS)} FROM task_events"


def event_to_row(event: TaskEvent) -> Row:
    """The line's values in EVENT_COLUMNS order (its `seq` last)."""
    return (*(getattr(event, name) for name in TASK_EVENT_FIELDS), event.seq)


def row_to_event(row: sqlite3.Row | Row) -> TaskEvent:
    return TaskEvent(**dict(zip((*TASK_EVENT_FIELDS, "seq"), row, strict=True)))


def record_events(conn: sqlite3.Connection, events: Sequence[TaskEvent]) -> None:
    """Append history lines; SQLite gives each its `seq`."""
    conn.executemany(_INSERT_EVENTS, [event_to_row(event)[:-1] for event in events])
