"""SQLite task repository: merges, lists, and claims as single write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from taskdash.domain import holding
from taskdash.domain import rules as domain_rules
from taskdash.domain.errors import NothingToClaim, TaskNotClaimable, TaskNotFound
from taskdash.domain.models import CLAIMED, Task, TaskEvent, TaskQuery
from taskdash.domain.ports import AssignChange, ClaimRules, TaskMessageEnvelope
from taskdash.store.sqlite.db import SqliteDb
from taskdash.store.sqlite.task_rows import (
    COLUMNS,
    SELECT_EVENTS,
    quoted,
    record_events,
    row_to_event,
    row_to_task,
    task_to_row,
)

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM tasks"
_UPSERT = (
    f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT(_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
)


def _get(conn: sqlite3.Connection, task_id: str) -> Task | None:
    row = conn.execute(f"{_SELECT} WHERE _id = ?", (task_id,)).fetchone()
    return row_to_task(row) if row else None


def _get_many(conn: sqlite3.Connection, task_ids: set[str]) -> dict[str, Task]:
    found: dict[str, Task] = {}
    ids = list(task_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(f"{_SELECT} WHERE _id IN ({', '.join('?' * len(chunk))})", chunk)
        found.update((task.id, task) for task in map(row_to_task, rows))
    return found


def _change(
    conn: sqlite3.Connection,
    before: Task,
    after: Task,
    *,
    actor: str,
    action: str,
    now: float,
    detail: str = "",
) -> Task:
    """Write `after` only if the row is still at `before.rev`, and record the change."""
    after.rev = before.rev + 1
    after.updated_at = now
    cursor = conn.execute(
        f"UPDATE tasks SET ({', '.join(COLUMNS[1:])}) = ({', '.join('?' * (len(COLUMNS) - 1))})"
        " WHERE _id = ? AND rev = ?",
        (*task_to_row(after)[1:], before.id, before.rev),
    )
    if cursor.rowcount != 1:
        raise TaskNotClaimable("task changed meanwhile")
    record_events(
        conn,
        [
            domain_rules.change_event(
                before, after, actor=actor, action=action, now=now, detail=detail
            )
        ],
    )
    return after


def _unfinished_count(conn: sqlite3.Connection, user: str, finished: Sequence[str]) -> int:
    marks = ", ".join("?" * len(finished))
    where = "user = ? AND user != ''" + (f" AND status NOT IN ({marks})" if finished else "")
    return int(
        conn.execute(f"SELECT count(*) FROM tasks WHERE {where}", (user, *finished)).fetchone()[0]
    )


def _check_limit(conn: sqlite3.Connection, rules_: ClaimRules) -> None:
    if not rules_.max_claims:
        return  # no limit: nothing to count
    unfinished = _unfinished_count(conn, rules_.user, rules_.finished_statuses)
    refusal = holding.claim_limit_error(rules_, unfinished=unfinished)
    if refusal:
        raise refusal


def _claim(conn: sqlite3.Connection, task: Task, rules_: ClaimRules, *, now: float) -> Task:
    """Give a claimable `task` to `rules_.user`, within the claim limit."""
    _check_limit(conn, rules_)
    return _change(
        conn,
        task,
        domain_rules.claimed(task, user=rules_.user, now=now),
        actor=rules_.actor or rules_.user,
        action="claim",
        now=now,
    )


_PARTIAL_INDEX_COLUMNS = frozenset({"user", "checker"})


def build_list_sql(query: TaskQuery) -> tuple[str, list[Any]]:
    """SQL for one page of `query`; each filter set is served by one of the task indexes."""
    where: list[str] = []
    params: list[Any] = []
    for name, value in query.equalities():
        where.append(f"{quoted(name)} = ?")
        params.append(value)
        if value and name in _PARTIAL_INDEX_COLUMNS:
            where.append(f"{quoted(name)} != ''")  # lets SQLite use the partial index
    if query.groups is not None:
        where.append(f'"group" IN ({", ".join("?" * len(query.groups))})')
        params.extend(query.groups)
    if query.origins is not None:
        where.append(f"origin IN ({', '.join('?' * len(query.origins))})")
        params.extend(query.origins)
    if query.exclude_origins:
        where.append(f"origin NOT IN ({', '.join('?' * len(query.exclude_origins))})")
        params.extend(query.exclude_origins)
    if query.claimed_before is not None:
        where.append(f"status = '{CLAIMED}' AND claimed_at < ?")  # a literal: the partial index
        params.append(query.claimed_before)
    direction = "DESC" if query.newest_first else "ASC"
    if query.after is not None:
        where.append(f"(time, _id) {'<' if query.newest_first else '>'} (?, ?)")
        params.extend(query.after)
    sql = _SELECT
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY time {direction}, _id {direction} LIMIT ? OFFSET ?"
    params.extend((query.limit, query.offset))
    return sql, params


class SqliteTaskRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def apply_messages(self, *, envelopes: Sequence[TaskMessageEnvelope], now: float) -> int:
        def apply(conn: sqlite3.Connection) -> int:
            current = _get_many(conn, {env.message.id for env in envelopes})
            changed: dict[str, Task] = {}
            events: list[TaskEvent] = []
            for env in envelopes:
                before = current.get(env.message.id)
                merged = domain_rules.merge_task_message(
                    before, env.message, kind=env.kind, ts_ns=env.ts_ns, now=now
                )
                if merged is None:
                    continue
                current[merged.id] = changed[merged.id] = merged
                event = domain_rules.message_event(before, merged, kind=env.kind, now=now)
                if event is not None:
                    events.append(event)
            conn.executemany(_UPSERT, [task_to_row(task) for task in changed.values()])
            record_events(conn, events)
            return len(changed)

        return await self._db.write(apply)

    async def get(self, task_id: str) -> Task | None:
        return await self._db.read(lambda conn: _get(conn, task_id))

    async def find(self, query: TaskQuery) -> list[Task]:
        sql, params = build_list_sql(query)
        return await self._db.read(
            lambda conn: [row_to_task(r) for r in conn.execute(sql, params).fetchall()]
        )

    async def claim(self, *, task_id: str, rules: ClaimRules, now: float) -> Task:
        def claim(conn: sqlite3.Connection) -> Task:
            task = _get(conn, task_id)
            if task is None:
                raise TaskNotFound(task_id)
            refusal = domain_rules.claim_error(task, rules)
            if refusal:
                raise refusal
            return _claim(conn, task, rules, now=now)

        return await self._db.write(claim)

    async def claim_next(
        self,
        *,
        rules: ClaimRules,
        task_type: str | None,
        project_id: str | None,
        now: float,
    ) -> Task:
        query = domain_rules.claim_next_query(rules, task_type=task_type, project_id=project_id)
        sql, params = build_list_sql(query)

        def claim_next(conn: sqlite3.Connection) -> Task:
            row = conn.execute(sql, params).fetchone()
            if row is None:
                raise NothingToClaim()
            return _claim(conn, row_to_task(row), rules, now=now)

        return await self._db.write(claim_next)

    async def release(
        self, *, task_id: str, holder: str | None, actor: str, action: str, now: float
    ) -> Task:
        def release(conn: sqlite3.Connection) -> Task:
            task = _get(conn, task_id)
            if task is None:
                raise TaskNotFound(task_id)
            refusal = holding.release_error(task, holder=holder)
            if refusal:
                raise refusal
            released = domain_rules.released(task, now=now)
            return _change(conn, task, released, actor=actor, action=action, now=now)

        return await self._db.write(release)

    async def assign(
        self, *, task_id: str, change: AssignChange, actor: str, now: float, detail: str = ""
    ) -> Task:
        def assign(conn: sqlite3.Connection) -> Task:
            task = _get(conn, task_id)
            if task is None:
                raise TaskNotFound(task_id)
            after = domain_rules.assigned(task, change, now=now)
            if after is None:
                return task
            return _change(conn, task, after, actor=actor, action="assign", now=now, detail=detail)

        return await self._db.write(assign)

    async def expire_claims(self, *, claimed_before: float, now: float, limit: int) -> list[Task]:
        def expire(conn: sqlite3.Connection) -> list[Task]:
            rows = conn.execute(
                # The status is written out (not bound) so that the partial index applies.
                f"{_SELECT} WHERE status = '{CLAIMED}' AND claimed_at < ?"
                " ORDER BY claimed_at LIMIT ?",
                (claimed_before, limit),
            ).fetchall()
            expired = []
            for row in rows:
                task = row_to_task(row)
                if not task.user:
                    continue
                released = domain_rules.released(task, now=now)
                expired.append(
                    _change(conn, task, released, actor="system", action="expire", now=now)
                )
            return expired

        return await self._db.write(expire)

    async def count_unfinished(
        self, *, users: Sequence[str], finished: Sequence[str]
    ) -> dict[str, int]:
        def count(conn: sqlite3.Connection) -> dict[str, int]:
            return {user: _unfinished_count(conn, user, finished) for user in users}

        return await self._db.read(count)

    async def count_claimed_before(self, *, before: float) -> int:
        return await self._db.read(
            lambda conn: int(
                conn.execute(
                    # Without the hint SQLite walks every claimed task by the status index.
                    "SELECT count(*) FROM tasks INDEXED BY tasks_claimed"
                    f" WHERE status = '{CLAIMED}' AND claimed_at < ?",
                    (before,),
                ).fetchone()[0]
            )
        )

    async def count_of_origins(self, *, origins: Sequence[str]) -> int:
        marks = ", ".join("?" * len(origins))
        return await self._db.read(
            lambda conn: int(
                conn.execute(
                    f"SELECT count(*) FROM tasks WHERE origin IN ({marks})", tuple(origins)
                ).fetchone()[0]
            )
        )

    async def count_by_origin_status(self) -> dict[str, dict[str, int]]:
        def count(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for origin, status, n in conn.execute(
                "SELECT origin, status, count(*) FROM tasks GROUP BY origin, status"
            ):
                out.setdefault(origin, {})[status] = n
            return out

        return await self._db.read(count)

    async def history(self, *, task_id: str, limit: int) -> list[TaskEvent]:
        def history(conn: sqlite3.Connection) -> list[TaskEvent]:
            rows = conn.execute(
                f"{SELECT_EVENTS} WHERE task_id = ? ORDER BY seq DESC LIMIT ?", (task_id, limit)
            ).fetchall()
            return [row_to_event(r) for r in rows]

        return await self._db.read(history)

    async def events_after(self, *, seq: int, limit: int) -> list[TaskEvent]:
        def events(conn: sqlite3.Connection) -> list[TaskEvent]:
            rows = conn.execute(
                f"{SELECT_EVENTS} WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
            return [row_to_event(r) for r in rows]

        return await self._db.read(events)

    async def last_event_seq(self) -> int:
        return await self._db.read(
            lambda conn: int(
                conn.execute("SELECT coalesce(max(seq), 0) FROM task_events").fetchone()[0]
            )
        )
