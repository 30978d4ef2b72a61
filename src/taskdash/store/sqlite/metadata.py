"""SQLite copy of what each service reported in its last metadata pull (SPEC §4)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from taskdash.domain.events import TaskMessage
from taskdash.store.sqlite.db import SqliteDb

# A record that leaves out URL, CreateTime or Reserved (None) keeps what was stored.
_UPSERT = (
    "INSERT INTO task_metadata (_id, project_id, instance_id, task_id, type, url,"
    " status, time, reserved, service, fetched_at)"
    " VALUES (:id, :project_id, :instance_id, :task_id, :type, coalesce(:url, ''),"
    " :status, coalesce(:time, 0), coalesce(:reserved, ''), :service, :fetched_at)"
    " ON CONFLICT(_id) DO UPDATE SET project_id = excluded.project_id,"
    " instance_id = excluded.instance_id, task_id = excluded.task_id,"
    " type = excluded.type, url = coalesce(:url, url), status = excluded.status,"
    " time = coalesce(:time, time), reserved = coalesce(:reserved, reserved),"
    " service = excluded.service, fetched_at = excluded.fetched_at"
)


class SqliteMetadataRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def save(self, *, records: Sequence[TaskMessage], service: str, now: float) -> None:
        rows = [
            {
                "id": r.id,
                "project_id": r.project_id,
                "instance_id": r.instance_id,
                "task_id": r.task_id,
                "type": r.task_type,
                "url": r.url,
                "status": r.status,
                "time": r.create_time,
                "reserved": r.reserved,
                "service": service,
                "fetched_at": now,
            }
            for r in records
        ]
        await self._db.write(lambda conn: conn.executemany(_UPSERT, rows))

    async def count(self, *, service: str) -> int:
        def count(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT count(*) FROM task_metadata WHERE service = ?", (service,)
            ).fetchone()
            return int(row[0])

        return await self._db.read(count)
