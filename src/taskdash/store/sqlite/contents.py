"""SQLite tables read whole in key order and written back as upserts (`taskdash store copy`)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from taskdash.domain.models import DeadLetter, Role, Service, Session, Task, TaskEvent, User
from taskdash.domain.ports import CursorRecord, HeartbeatRecord, MetadataRecord
from taskdash.domain.user_names import user_name_key
from taskdash.store.sqlite.db import SqliteDb
from taskdash.store.sqlite.task_rows import COLUMNS as TASK_COLUMNS
from taskdash.store.sqlite.task_rows import (
    EVENT_COLUMNS,
    event_to_row,
    quoted,
    row_to_event,
    row_to_task,
    task_to_row,
)

R = TypeVar("R")
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Layout(Generic[R]):
    """How one kind of record sits in its table."""

    table: str
    columns: tuple[str, ...]  # inserted and compared; `select` adds what the table assigns
    key: tuple[str, ...]  # the order of pages; `conflict` is the unique column of an upsert
    conflict: str
    to_row: Callable[[R], Row]
    from_row: Callable[[Row], R]
    key_of: Callable[[R], Row]
    select: tuple[str, ...] = ()

    def select_sql(self, *, after: bool) -> str:
        key = ", ".join(self.key)
        where = f" WHERE ({key}) > ({', '.join('?' * len(self.key))})" if after else ""
        columns = ", ".join(self.columns + self.select)
        return f"SELECT {columns} FROM {self.table}{where} ORDER BY {key} LIMIT ?"

    def upsert_sql(self) -> str:
        """Insert, or update a row that differs; unchanged rows do not count as changes."""
        names = ", ".join(self.columns)
        updated = [c for c in self.columns if c != self.conflict]
        return (
            f"INSERT INTO {self.table} ({names}) VALUES ({', '.join('?' * len(self.columns))})"
            f" ON CONFLICT({self.conflict}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in updated)
            + f" WHERE ({', '.join(f'{self.table}.{c}' for c in updated)})"
            + f" IS NOT ({', '.join(f'excluded.{c}' for c in updated)})"
        )


class SqliteTable(Generic[R]):
    """RecordTable on one SQLite table."""

    def __init__(self, db: SqliteDb, layout: Layout[R]) -> None:
        self._db = db
        self._layout = layout
        self._upsert = layout.upsert_sql()
        self._select_first = layout.select_sql(after=False)
        self._select_after = layout.select_sql(after=True)

    async def count(self) -> int:
        sql = f"SELECT count(*) FROM {self._layout.table}"
        return await self._db.read(lambda conn: int(conn.execute(sql).fetchone()[0]))

    async def pages(self, *, size: int, in_key_order: bool) -> AsyncGenerator[list[R], None]:
        # Always in key order: every key but the dead letters' is an index.
        after: Row | None = None
        while True:
            records = await self._db.read(partial(self._page, after=after, size=size))
            if records:
                yield records
            if len(records) < size:
                return
            after = self._layout.key_of(records[-1])

    def _page(self, conn: sqlite3.Connection, *, after: Row | None, size: int) -> list[R]:
        sql = self._select_after if after is not None else self._select_first
        rows = conn.execute(sql, (*(after or ()), size)).fetchall()
        return [self._layout.from_row(tuple(row)) for row in rows]

    async def put(self, records: Sequence[R]) -> int:
        rows = [self._layout.to_row(record) for record in records]
        if not rows:
            return 0
        return await self._db.write(lambda conn: conn.executemany(self._upsert, rows).rowcount)


SERVICE_COLUMNS = (
    "_id",
    "name",
    "reserved",
    "origin",
    "registered_ts",
    "last_beat_ts",
    "last_beat_time",
    "beat_reserved",
    "online",
    "clock_skew",
    "health_changed_at",
    "metadata_error",
    "metadata_synced_at",
    "metadata_failures",
    "metadata_next_at",
)


def _service_to_row(s: Service) -> Row:
    return (
        s.url,
        s.name,
        s.reserved,
        s.origin,
        s.registered_ts,
        s.last_beat_ts,
        s.last_beat_time,
        s.beat_reserved,
        int(s.online),
        int(s.clock_skew),
        s.health_changed_at,
        s.metadata_error,
        s.metadata_synced_at,
        s.metadata_failures,
        s.metadata_next_at,
    )


def _row_to_service(row: Row) -> Service:
    service = Service(*row)
    service.online, service.clock_skew = bool(service.online), bool(service.clock_skew)
    return service


def _user_to_row(u: User) -> Row:
    return (
        u.name,
        int(u.role),
        u.password_hash,
        u.group,
        int(u.disabled),
        u.lang,
        u.created_at,
        user_name_key(u.name),
    )


def _row_to_user(row: Row) -> User:
    name, role, password_hash, group, disabled, lang, created_at, _key = row
    return User(name, Role(role), password_hash, group, bool(disabled), lang, created_at)


def _letter_to_row(d: DeadLetter) -> Row:
    return (d.key, d.topic, d.body, d.reason, d.attempts, d.at, d.size, d.sha256)


def _row_to_letter(row: Row) -> DeadLetter:
    key, topic, body, reason, attempts, at, size, sha256, row_id = row
    return DeadLetter(topic, bytes(body), reason, attempts, at, key, str(row_id), size, sha256)


def _key(*names: str) -> Callable[[Any], Row]:
    return lambda record: tuple(getattr(record, name) for name in names)


TASKS: Layout[Task] = Layout(
    "tasks", TASK_COLUMNS, ("_id",), quoted("_id"), task_to_row, row_to_task, _key("id")
)
SERVICES: Layout[Service] = Layout(
    "services", SERVICE_COLUMNS, ("_id",), "_id", _service_to_row, _row_to_service, _key("url")
)
HEARTBEATS: Layout[HeartbeatRecord] = Layout(
    "heartbeats",
    ("_id", "time", "reserved", "ts", "service", "count"),
    ("_id",),
    "_id",
    lambda h: (h.url, h.time, h.reserved, h.ts, h.service, h.count),
    lambda row: HeartbeatRecord(*row),
    _key("url"),
)
TASK_METADATA: Layout[MetadataRecord] = Layout(
    "task_metadata",
    (
        "_id",
        "project_id",
        "instance_id",
        "task_id",
        "type",
        "url",
        "status",
        "time",
        "reserved",
        "service",
        "fetched_at",
    ),
    ("_id",),
    "_id",
    lambda m: (
        m.id,
        m.project_id,
        m.instance_id,
        m.task_id,
        m.type,
        m.url,
        m.status,
        m.time,
        m.reserved,
        m.service,
        m.fetched_at,
    ),
    lambda row: MetadataRecord(*row),
    _key("id"),
)
USERS: Layout[User] = Layout(
    "users",
    ("name", "role", "password_hash", '"group"', "disabled", "lang", "created_at", "name_key"),
    ("name",),
    "name",
    _user_to_row,
    _row_to_user,
    _key("name"),
)
SESSIONS: Layout[Session] = Layout(
    "sessions",
    ("token_hash", "user", "created_at", "expires_at"),
    ("token_hash",),
    "token_hash",
    lambda s: (s.token_hash, s.user, s.created_at, s.expires_at),
    lambda row: Session(*row),
    _key("token_hash"),
)
TASK_EVENTS: Layout[TaskEvent] = Layout(
    "task_events", EVENT_COLUMNS, ("seq",), quoted("seq"), event_to_row, row_to_event, _key("seq")
)
# Inserted in (at, key) order, so the row ids (the admin list's order) follow time here too.
DEAD_LETTERS: Layout[DeadLetter] = Layout(
    "dead_letters",
    ("key", "topic", "body", "reason", "attempts", "at", "size", "sha256"),
    ("at", "key"),
    "key",
    _letter_to_row,
    _row_to_letter,
    _key("at", "key"),
    select=("id",),
)
CURSORS: Layout[CursorRecord] = Layout(
    "cursors",
    ("name", "value"),
    ("name",),
    "name",
    lambda c: (c.name, c.value),
    lambda row: CursorRecord(*row),
    _key("name"),
)


class SqliteContents:
    """StoreContents of one SQLite file."""

    def __init__(self, db: SqliteDb) -> None:
        self.tasks = SqliteTable(db, TASKS)
        self.services = SqliteTable(db, SERVICES)
        self.heartbeats = SqliteTable(db, HEARTBEATS)
        self.task_metadata = SqliteTable(db, TASK_METADATA)
        self.users = SqliteTable(db, USERS)
        self.sessions = SqliteTable(db, SESSIONS)
        self.task_events = SqliteTable(db, TASK_EVENTS)
        self.dead_letters = SqliteTable(db, DEAD_LETTERS)
        self.cursors = SqliteTable(db, CURSORS)
