"""Reads of the activity rollups that triggers keep in SQLite (activity_schema.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from taskdash.domain.activity import (
    ActivityScope,
    CycleKey,
    CycleSummary,
    HourCounts,
    HourlyActivity,
    PersonCounts,
    summaries_by,
)
from taskdash.store.sqlite.db import SqliteDb


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" * len(values))


def _filters(
    scope: ActivityScope, *, user: bool = False, groups: bool = False
) -> tuple[str, list[Any]]:
    """The scope's project/type filters (and its user's or groups' slice) as SQL."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("project_id", scope.project), ("type", scope.type)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if user and scope.user is not None:
        where.append("user = ?")
        params.append(scope.user)
    if groups and scope.groups is not None:
        where.append(f'"group" IN ({_marks(scope.groups)})')
        params.extend(scope.groups)
    return "".join(f" AND {clause}" for clause in where), params


def _finishes(scope: ActivityScope) -> tuple[str, list[Any]]:
    """Entering a finished status from another one."""
    if not scope.finished:
        return " AND 0", []
    marks = _marks(scope.finished)
    return (
        f" AND to_status IN ({marks}) AND from_status NOT IN ({marks})",
        [*scope.finished, *scope.finished],
    )


def _hourly(conn: sqlite3.Connection, scope: ActivityScope) -> HourlyActivity:
    hours: dict[int, HourCounts] = {}
    span = [scope.since, scope.until]
    queue_where, queue_params = _filters(scope, groups=True)
    own = scope.user is not None
    # The rows of no user hold each group's totals (claims of everyone among them).
    rows = conn.execute(
        "SELECT hour, sum(created), sum(queue_delta), sum(claimed) FROM activity_hourly"
        f" WHERE hour >= ? AND hour < ? AND user = ''{queue_where} GROUP BY hour",
        [*span, *queue_params],
    )
    for hour, created, delta, claimed in rows:
        counts = hours.setdefault(hour, HourCounts())
        counts.created, counts.queue_delta = created, delta
        counts.claimed = 0 if own else claimed
    user_where, user_params = _filters(scope, user=True)
    finish_where, finish_params = _finishes(scope)
    if own:
        rows = conn.execute(
            "SELECT hour, sum(claimed) FROM activity_hourly INDEXED BY activity_hourly_user"
            f" WHERE user != '' AND hour >= ? AND hour < ?{user_where} GROUP BY hour",
            [*span, *user_params],
        )
        for hour, claimed in rows:
            hours.setdefault(hour, HourCounts()).claimed = claimed
        finishes = conn.execute(
            "SELECT hour, sum(count) FROM activity_transitions INDEXED BY"
            " activity_transitions_user"
            f" WHERE hour >= ? AND hour < ?{finish_where}{user_where} GROUP BY hour",
            [*span, *finish_params, *user_params],
        )
    else:
        finishes = conn.execute(
            "SELECT hour, sum(count) FROM activity_status_hourly"
            f" WHERE hour >= ? AND hour < ?{finish_where}{user_where} GROUP BY hour",
            [*span, *finish_params, *user_params],
        )
    for hour, finished in finishes:
        hours.setdefault(hour, HourCounts()).finished = finished
    # The queue now, less what changed from the scope's end on (few rows: a recent end).
    (now_length,) = conn.execute(
        f"SELECT coalesce(sum(count), 0) FROM activity_queue WHERE 1{queue_where}", queue_params
    ).fetchone()
    (later,) = conn.execute(
        "SELECT coalesce(sum(queue_delta), 0) FROM activity_hourly"
        f" WHERE hour >= ? AND user = ''{queue_where}",
        [scope.until, *queue_params],
    ).fetchone()
    return HourlyActivity(hours=hours, queue_at_until=now_length - later)


def _people(conn: sqlite3.Connection, scope: ActivityScope) -> dict[str, PersonCounts]:
    people: dict[str, PersonCounts] = {}
    where, params = _filters(scope, user=True)
    unfinished = f" AND status NOT IN ({_marks(scope.finished)})" if scope.finished else ""
    for user, holding in conn.execute(
        f"SELECT user, sum(count) FROM activity_holding WHERE 1{unfinished}{where}"
        " GROUP BY user HAVING sum(count) > 0",
        [*scope.finished, *params],
    ):
        people.setdefault(user, PersonCounts()).holding = holding
    index = " INDEXED BY activity_hourly_user" if scope.user is not None else ""
    for user, releases, expiries in conn.execute(
        f"SELECT user, sum(released), sum(expired) FROM activity_hourly{index}"
        f" WHERE user != '' AND hour >= ? AND hour < ?{where} GROUP BY user"
        " HAVING sum(released) + sum(expired) > 0",
        [scope.since, scope.until, *params],
    ):
        counts = people.setdefault(user, PersonCounts())
        counts.releases, counts.expiries = releases, expiries
    return people


def _cycle_summaries(
    conn: sqlite3.Connection,
    scope: ActivityScope,
    keys: Sequence[CycleKey],
    members: Mapping[str, str] | None,
) -> dict[CycleKey, dict[str, CycleSummary]]:
    """One pass over the range's records in the covering index, sorted by duration in SQLite."""
    where, params = _filters(scope, user=True)
    finish_where, finish_params = _finishes(scope)
    rows = conn.execute(
        "SELECT type, user, duration_s FROM activity_cycles"
        f" WHERE changed_at >= ? AND changed_at < ?{finish_where}{where} ORDER BY duration_s",
        [scope.since, scope.until, *finish_params, *params],
    ).fetchall()
    return summaries_by(rows, keys, members)


class SqliteActivityStats:
    """The ActivityStats port on the SQLite rollups."""

    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def hourly_activity(self, *, scope: ActivityScope) -> HourlyActivity:
        return await self._db.read(lambda conn: _hourly(conn, scope))

    async def people_activity(self, *, scope: ActivityScope) -> dict[str, PersonCounts]:
        return await self._db.read(lambda conn: _people(conn, scope))

    async def cycle_summaries(
        self,
        *,
        scope: ActivityScope,
        keys: Sequence[CycleKey],
        members: Mapping[str, str] | None = None,
    ) -> dict[CycleKey, dict[str, CycleSummary]]:
        return await self._db.read(lambda conn: _cycle_summaries(conn, scope, keys, members))
