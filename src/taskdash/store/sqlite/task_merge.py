"""SQLite's merge of a batch of task messages, as rows: the ingest's hot path."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from taskdash.domain import rules as domain_rules
from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.store.sqlite.task_rows import (
    COLUMNS,
    Row,
    RowsInsert,
    created_event_row,
    event_to_row,
    insert_event_rows,
    new_task_row,
    row_to_task,
    task_to_row,
)

SELECT_TASKS = f"SELECT {', '.join(COLUMNS)} FROM tasks"
_UPSERT = RowsInsert(
    f"INSERT INTO tasks ({', '.join(COLUMNS)})",
    len(COLUMNS),
    " ON CONFLICT(_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:]),
)


def _stored_rows(conn: sqlite3.Connection, task_ids: set[str]) -> dict[str, Row]:
    """The stored rows of these tasks (plain tuples), by id."""
    found: dict[str, Row] = {}
    ids = list(task_ids)
    cursor = conn.cursor()
    cursor.row_factory = None
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cursor.execute(f"{SELECT_TASKS} WHERE _id IN ({', '.join('?' * len(chunk))})", chunk)
        found.update((row[0], row) for row in cursor)
    return found


def apply_messages(
    conn: sqlite3.Connection, *, envelopes: Sequence[TaskMessageEnvelope], now: float
) -> int:
    """Merge a batch of task messages as rows: one read of the stored ones, one write per table."""
    rows = _stored_rows(conn, {env.message.id for env in envelopes})
    changed: dict[str, Row] = {}
    events: list[Row] = []
    for env in envelopes:
        before = rows.get(env.message.id)
        if before is None:
            row = new_task_row(env.message, kind=env.kind, ts_ns=env.ts_ns, now=now)
            events.append(created_event_row(row, now=now))
        else:
            before_task = row_to_task(before)
            merged = domain_rules.merge_task_message(
                before_task, env.message, kind=env.kind, ts_ns=env.ts_ns, now=now
            )
            if merged is None:
                continue
            row = task_to_row(merged)
            event = domain_rules.message_event(before_task, merged, kind=env.kind, now=now)
            if event is not None:
                events.append(event_to_row(event)[:-1])
        rows[row[0]] = changed[row[0]] = row
    # In _id order: each page of the _id index (random md5 ids) is then changed once a batch,
    # not loaded, spilled and written again as ids land all over it.
    _UPSERT.run(conn, [changed[task_id] for task_id in sorted(changed)])
    insert_event_rows(conn, events)
    return len(changed)
