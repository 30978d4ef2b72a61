"""Reads of the activity rollups that triggers keep in SQLite (activity_schema.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from taskdash.domain.activity import (
    HISTOGRAM_EDGES_S,
    ActivityScope,
    CycleKey,
    CycleSummary,
    HourCounts,
    HourlyActivity,
    PersonCounts,
    quantile_ranks,
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


_EDGES = ", ".join(f"coalesce(sum(d <= {edge!r}), 0)" for edge in HISTOGRAM_EDGES_S)
_QUANTILES = (0.5, 0.9)


def _interpolated(
    values: dict[tuple[str, int], float], key: str, count: int, q: float
) -> float | None:
    """The q-quantile of `count` values from the ranks read (as domain quantile())."""
    if not count:
        return None
    low, high, fraction = quantile_ranks(count, q)
    return values[key, low] + (values[key, high] - values[key, low]) * fraction


def _cycle_summaries(
    conn: sqlite3.Connection,
    scope: ActivityScope,
    key: CycleKey,
    members: Mapping[str, str] | None,
) -> dict[str, CycleSummary]:
    """Counts and histograms by one scan, the quantiles' values by a sort, both in SQLite."""
    where, params = _filters(scope, user=True)
    finish_where, finish_params = _finishes(scope)
    if key == "group":
        pairs = sorted((members or {}).items())
        if not pairs:
            return {}
        members_sql = f"m(user, k) AS (VALUES {', '.join('(?, ?)' for _ in pairs)}), "
        members_params: list[Any] = [value for pair in pairs for value in pair]
        source = "activity_cycles AS c JOIN m ON m.user = c.user"
        key_sql = "m.k"
    else:
        members_sql, members_params = "", []
        source, key_sql = "activity_cycles AS c", f"c.{key}"
    cycles = (
        f"WITH {members_sql}c AS (SELECT {key_sql} AS k, duration_s AS d FROM {source}"
        f" WHERE changed_at >= ? AND changed_at < ?{finish_where}{where})"
    )
    cycle_params = [*members_params, scope.since, scope.until, *finish_params, *params]
    totals = conn.execute(
        f"{cycles} SELECT k, count(*), count(d), {_EDGES} FROM c GROUP BY k", cycle_params
    ).fetchall()
    ranks = " OR ".join(
        f"rn = CAST((n - 1) * {q!r} AS INTEGER) OR rn = CAST((n - 1) * {q!r} AS INTEGER) + 1"
        for q in _QUANTILES
    )
    values: dict[tuple[str, int], float] = {
        (k, rn): d
        for k, rn, d in conn.execute(
            f"{cycles}, r AS (SELECT k, d, row_number() OVER (PARTITION BY k ORDER BY d) - 1"
            " AS rn, count(*) OVER (PARTITION BY k) AS n FROM c WHERE d IS NOT NULL)"
            f" SELECT k, rn, d FROM r WHERE {ranks}",
            cycle_params,
        )
    }
    summaries: dict[str, CycleSummary] = {}
    for k, finished, count, *cumulative in totals:
        bins = [b - a for a, b in zip([0, *cumulative], [*cumulative, count], strict=True)]
        summaries[k] = CycleSummary(
            finished=finished,
            count=count,
            median_s=_interpolated(values, k, count, 0.5),
            p90_s=_interpolated(values, k, count, 0.9),
            histogram=list(zip([*HISTOGRAM_EDGES_S, None], bins, strict=True)),
        )
    return summaries


class SqliteActivityStats:
    """The ActivityStats port on the SQLite rollups."""

    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def hourly_activity(self, *, scope: ActivityScope) -> HourlyActivity:
        return await self._db.read(lambda conn: _hourly(conn, scope))

    async def people_activity(self, *, scope: ActivityScope) -> dict[str, PersonCounts]:
        return await self._db.read(lambda conn: _people(conn, scope))

    async def cycle_summaries(
        self, *, scope: ActivityScope, key: CycleKey, members: Mapping[str, str] | None = None
    ) -> dict[str, CycleSummary]:
        return await self._db.read(lambda conn: _cycle_summaries(conn, scope, key, members))
