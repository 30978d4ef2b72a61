"""SQLite copy of what each service reported in its last metadata pull (SPEC §4)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from taskdash.domain.events import TaskMessage
from taskdash.store.sqlite.db import SqliteDb


class SqliteMetadataRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def save(self, records: Sequence[TaskMessage], *, service: str, now: float) -> None:
        rows = [
            (
                r.id,
                r.project_id,
                r.instance_id,
                r.task_id,
                r.task_type,
                r.url,
                r.status,
                r.create_time,
                r.reserved or "",
                service,
                now,
            )
            for r in records
        ]
        await self._db.write(
            lambda conn: conn.executemany(
                "INSERT INTO task_metadata (_id, project_id, instance_id, task_id, type, url,"
                " status, time, reserved, service, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(_id) DO UPDATE SET project_id = excluded.project_id,"
                " instance_id = excluded.instance_id, task_id = excluded.task_id,"
                " type = excluded.type, url = excluded.url, status = excluded.status,"
                " time = excluded.time, reserved = excluded.reserved,"
                " service = excluded.service, fetched_at = excluded.fetched_at",
                rows,
            )
        )

    async def count(self, *, service: str) -> int:
        def count(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT count(*) FROM task_metadata WHERE service = ?", (service,)
            ).fetchone()
            return int(row[0])

        return await self._db.read(count)
