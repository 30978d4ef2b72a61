"""SQLite task counts: `task_counts`, kept by triggers on `tasks` (schema.py) in every write's
own transaction, so every write path (merge, claim, release, assign, expiry, copy) keeps it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from taskdash.domain.models import UNCLAIMED
from taskdash.domain.ports import CountScope, TaskCount, UnclaimedKey
from taskdash.store.sqlite.db import SqliteDb

LOOKUP_KEYS_MAX = 64  # more seeks than this go to a reader thread, off the event loop
_KEY = 'project_id, type, status, "group", user, checker'


def scope_where(
    scope: CountScope, project: str | None, task_type: str | None
) -> tuple[str, list[Any]]:
    """A WHERE clause (or '') over the counted columns, which `tasks` and `task_counts` share."""
    where: list[str] = []
    params: list[Any] = []
    if project is not None:
        where.append("project_id = ?")
        params.append(project)
    if task_type is not None:
        where.append("type = ?")
        params.append(task_type)
    if not scope.everyone:
        seen = ["user = ?"]
        params.append(scope.user)
        if scope.checker:
            seen.append("checker = ?")
            params.append(scope.user)
        if scope.groups:
            marks = ", ".join("?" * len(scope.groups))
            seen.append(f"(user = '' AND status = ? AND \"group\" IN ({marks}))")
            params.extend((UNCLAIMED, *scope.groups))
        where.append("(" + " OR ".join(seen) + ")")
    return (" WHERE " + " AND ".join(where)) if where else "", params


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[TaskCount]:
    return [TaskCount(*row) for row in conn.execute(sql, params)]


class SqliteTaskCounts:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def counts(
        self, *, scope: CountScope, project: str | None, task_type: str | None
    ) -> list[TaskCount]:
        where, params = scope_where(scope, project, task_type)
        where += " AND n > 0" if where else " WHERE n > 0"
        sql = f"SELECT {_KEY}, n FROM task_counts{where}"
        return await self._db.read(lambda conn: _rows(conn, sql, params))

    async def recount(
        self, *, scope: CountScope, project: str | None, task_type: str | None
    ) -> list[TaskCount]:
        where, params = scope_where(scope, project, task_type)
        sql = f"SELECT {_KEY}, count(*) FROM tasks{where} GROUP BY {_KEY}"
        return await self._db.read(lambda conn: _rows(conn, sql, params))

    async def oldest_unclaimed(self, *, keys: Sequence[UnclaimedKey]) -> dict[UnclaimedKey, int]:
        # The conditions are written out (not bound) so that the partial index applies.
        sql = (
            f"SELECT min(time) FROM tasks WHERE status = '{UNCLAIMED}' AND user = ''"
            ' AND project_id = ? AND type = ? AND "group" = ?'
        )

        def oldest(conn: sqlite3.Connection) -> dict[UnclaimedKey, int]:
            found: dict[UnclaimedKey, int] = {}
            for key in keys:
                value = conn.execute(sql, key).fetchone()[0]
                if value is not None:
                    found[key] = int(value)
            return found

        if len(keys) <= LOOKUP_KEYS_MAX:
            # A few seeks on a partial index: bounded point reads, on the loop's connection.
            return self._db.lookup(oldest)
        return await self._db.read(oldest)
