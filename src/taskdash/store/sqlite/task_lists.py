"""SQLite reads behind the lists' totals, filter suggestions and history export."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from taskdash.domain.models import TaskEvent, TaskQuery
from taskdash.store.sqlite.task_rows import SELECT_EVENTS, quoted, row_to_event
from taskdash.store.sqlite.tasks import SqliteTaskRepo, list_conditions

# The index whose first column is each field that distinct values are asked of.
_DISTINCT_INDEXES = {"project_id": "tasks_project", "type": "tasks_type", "group": "tasks_group"}


def _where(query: TaskQuery) -> tuple[str, list[object]]:
    conditions, params = list_conditions(query)
    return " AND ".join(conditions) or "1", params


class SqliteTasks(SqliteTaskRepo):
    """The task repository with the lists' counts, distinct values and history by time."""

    async def count(self, query: TaskQuery) -> int:
        where, params = _where(query)
        sql = f"SELECT count(*) FROM tasks WHERE {where}"
        return await self._db.read(lambda conn: int(conn.execute(sql, params).fetchone()[0]))

    async def distinct(self, *, field: str, query: TaskQuery, limit: int) -> list[str]:
        """The first `limit` non-empty values of `field` among tasks matching `query`, sorted."""
        column = quoted(field)
        where, params = _where(query)
        # A loose index scan: each step seeks the next value in the field's index, so the cost
        # is per distinct value, not per task.
        sql = (
            "WITH RECURSIVE d(v) AS (SELECT '' UNION ALL"
            f" SELECT (SELECT {column} FROM tasks INDEXED BY {_DISTINCT_INDEXES[field]}"
            f" WHERE {column} > d.v AND {where} ORDER BY {column} LIMIT 1)"
            " FROM d WHERE d.v IS NOT NULL LIMIT ?)"
            " SELECT v FROM d WHERE v IS NOT NULL AND v != ''"
        )

        def read(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute(sql, (*params, limit + 1))]

        return await self._db.read(read)

    async def events_between(
        self,
        *,
        since: float,
        until: float,
        after: tuple[float, int] | None,
        task_ids: Sequence[str] | None,
        limit: int,
    ) -> list[TaskEvent]:
        """History lines with `since` <= at < `until` by (at, seq), after `after`."""
        where = ["at >= ?", "at < ?"]
        params: list[object] = [since, until]
        if after is not None:
            where.append("(at, seq) > (?, ?)")
            params.extend(after)
        if task_ids is not None:
            where.append("task_id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(task_ids)))
        sql = f"{SELECT_EVENTS} WHERE {' AND '.join(where)} ORDER BY at, seq LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[TaskEvent]:
            return [row_to_event(row) for row in conn.execute(sql, (*params, limit))]

        return await self._db.read(read)
