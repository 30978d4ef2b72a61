"""SQLite dead-letter store: every message that could not be applied, with the reason."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from taskdash.domain.errors import BadRequest
from taskdash.domain.models import DeadLetter
from taskdash.store.sqlite.db import SqliteDb

INT64_MAX = 2**63 - 1


def _letter_id(cursor: str) -> int:
    """A page cursor is a row id: decimal digits within SQLite's int64."""
    if not (len(cursor) <= 19 and cursor.isascii() and cursor.isdigit()) or int(cursor) > INT64_MAX:
        raise BadRequest("cursor is not one this API gave")
    return int(cursor)


class SqliteDeadLetterRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def add(self, letters: Sequence[DeadLetter]) -> None:
        await self._db.write(
            lambda conn: conn.executemany(
                "INSERT INTO dead_letters (key, topic, body, reason, attempts, at, size, sha256)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
                [
                    (d.key, d.topic, d.body, d.reason, d.attempts, d.at, d.size, d.sha256)
                    for d in letters
                ],
            )
        )

    async def recent(self, *, limit: int, before_id: str | None) -> list[DeadLetter]:
        before = None if before_id is None else _letter_id(before_id)

        def list_(conn: sqlite3.Connection) -> list[DeadLetter]:
            sql = (
                "SELECT topic, body, reason, attempts, at, key, id, size, sha256 FROM dead_letters"
            )
            params: tuple[int, ...] = (limit,)
            if before is not None:
                sql += " WHERE id < ?"
                params = (before, limit)
            rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", params).fetchall()
            return [
                DeadLetter(r[0], bytes(r[1]), r[2], r[3], r[4], r[5], str(r[6]), r[7], r[8])
                for r in rows
            ]

        return await self._db.read(list_)

    async def count_since(self, *, since: float) -> int:
        return await self._db.read(
            lambda conn: int(
                conn.execute(
                    "SELECT count(*) FROM dead_letters WHERE at >= ?", (since,)
                ).fetchone()[0]
            )
        )

    async def count(self) -> int:
        return await self._db.read(
            lambda conn: int(conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
        )
