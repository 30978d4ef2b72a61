"""SQLite users, sessions and login-failure counters."""

from __future__ import annotations

import sqlite3

from taskdash.domain.errors import BadRequest
from taskdash.domain.models import Role, Session, User
from taskdash.domain.ports import AttemptCount
from taskdash.domain.user_names import user_name_key
from taskdash.store.sqlite.db import SqliteDb

_USER_COLUMNS = 'name, role, password_hash, "group", disabled, lang, created_at'


def _row_to_user(row: sqlite3.Row) -> User:
    name, role, password_hash, group, disabled, lang, created_at = tuple(row)
    return User(name, Role(role), password_hash, group, bool(disabled), lang, created_at)


def _get_user(conn: sqlite3.Connection, name: str) -> User | None:
    """Exactly this name first, else the same key (two primary/unique-key lookups)."""
    row = conn.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE name = ? OR name_key = ?"
        " ORDER BY name = ? DESC LIMIT 1",
        (name, user_name_key(name), name),
    ).fetchone()
    return _row_to_user(row) if row else None


class SqliteAccountRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def add_user(self, user: User) -> None:
        def add(conn: sqlite3.Connection) -> None:
            taken = _get_user(conn, user.name)
            if taken is not None:
                raise BadRequest(f"user {taken.name} already exists")
            conn.execute(
                f"INSERT INTO users ({_USER_COLUMNS}, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user.name,
                    int(user.role),
                    user.password_hash,
                    user.group,
                    int(user.disabled),
                    user.lang,
                    user.created_at,
                    user_name_key(user.name),
                ),
            )

        await self._db.write(add)

    async def get_user(self, name: str) -> User | None:
        return await self._db.read(lambda conn: _get_user(conn, name))

    async def list_users(self) -> list[User]:
        return await self._db.read(
            lambda conn: [
                _row_to_user(r)
                for r in conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name")
            ]
        )

    async def update_user(
        self,
        *,
        name: str,
        password_hash: str | None = None,
        role: int | None = None,
        group: str | None = None,
        disabled: bool | None = None,
        lang: str | None = None,
    ) -> User:
        changes = {
            "password_hash": password_hash,
            "role": role,
            '"group"': group,
            "disabled": None if disabled is None else int(disabled),
            "lang": lang,
        }
        sets = {column: value for column, value in changes.items() if value is not None}

        def update(conn: sqlite3.Connection) -> User:
            user = _get_user(conn, name)
            if user is None:
                raise BadRequest(f"no user {name}")
            if sets:
                conn.execute(
                    f"UPDATE users SET {', '.join(f'{c} = ?' for c in sets)} WHERE name = ?",
                    (*sets.values(), user.name),
                )
                user = _get_user(conn, user.name)
                assert user is not None
            return user

        return await self._db.write(update)

    async def add_session(self, session: Session) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO sessions (token_hash, user, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (session.token_hash, session.user, session.created_at, session.expires_at),
            )
        )

    async def get_session(self, *, token_hash: str, now: float) -> Session | None:
        def get(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                "SELECT token_hash, user, created_at, expires_at FROM sessions"
                " WHERE token_hash = ? AND expires_at > ?",
                (token_hash, now),
            ).fetchone()
            return Session(*tuple(row)) if row else None

        return await self._db.read(get)

    async def session_user(self, *, token_hash: str, now: float) -> User | None:
        def get(conn: sqlite3.Connection) -> User | None:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE name ="
                " (SELECT user FROM sessions WHERE token_hash = ? AND expires_at > ?)",
                (token_hash, now),
            ).fetchone()
            return _row_to_user(row) if row else None

        return self._db.lookup(get)  # two primary-key lookups

    async def delete_session(self, token_hash: str) -> None:
        await self._db.write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
        )

    async def delete_user_sessions(self, user: str) -> None:
        await self._db.write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE user = ?", (user,))
        )

    async def purge_sessions(self, *, now: float) -> int:
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount
        )

    async def count_login_attempt(self, *, key: str, now: float, window_s: float) -> AttemptCount:
        def count(conn: sqlite3.Connection) -> AttemptCount:
            row = conn.execute(
                "INSERT INTO login_failures (key, count, window_start) VALUES (?, 1, ?)"
                " ON CONFLICT(key) DO UPDATE SET"
                " count = CASE WHEN window_start <= ? THEN 1 ELSE count + 1 END,"
                " window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END"
                " RETURNING count, window_start",
                (key, now, now - window_s, now - window_s, now),
            ).fetchone()
            return AttemptCount(count=int(row[0]), window_start=float(row[1]))

        return await self._db.write(count)

    async def uncount_login_attempt(self, *, key: str, now: float, window_s: float) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE login_failures SET count = count - 1"
                " WHERE key = ? AND window_start > ? AND count > 0",
                (key, now - window_s),
            )
        )

    async def login_failures(self, *, key: str, now: float, window_s: float) -> int:
        def count(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT count FROM login_failures WHERE key = ? AND window_start > ?",
                (key, now - window_s),
            ).fetchone()
            return int(row[0]) if row else 0

        return await self._db.read(count)

    async def purge_login_failures(self, *, before: float) -> int:
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM login_failures WHERE window_start <= ?", (before,)
                ).rowcount
            )
        )
