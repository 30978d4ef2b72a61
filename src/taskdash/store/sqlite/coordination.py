"""SQLite leases and cursors (shared between processes on one file)."""

from __future__ import annotations

import sqlite3

from taskdash.store.sqlite.db import SqliteDb


class SqliteCoordinationRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def acquire_lease(self, *, name: str, holder: str, now: float, ttl_s: float) -> bool:
        def acquire(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,"
                " expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at < ?",
                (name, holder, now + ttl_s, now),
            )
            return cursor.rowcount == 1

        return await self._db.write(acquire)

    async def release_lease(self, *, name: str, holder: str) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)
            )
        )

    async def get_cursor(self, name: str) -> int:
        def get(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
            return int(row[0]) if row else 0

        return await self._db.read(get)

    async def advance_cursor(self, *, name: str, expected: int, to: int) -> bool:
        def advance(conn: sqlite3.Connection) -> bool:
            conn.execute("INSERT OR IGNORE INTO cursors (name, value) VALUES (?, 0)", (name,))
            cursor = conn.execute(
                "UPDATE cursors SET value = ? WHERE name = ? AND value = ?", (to, name, expected)
            )
            return cursor.rowcount == 1

        return await self._db.write(advance)
