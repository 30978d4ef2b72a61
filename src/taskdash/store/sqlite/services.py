"""SQLite service registry and heartbeat health."""

from __future__ import annotations

import sqlite3

from taskdash.domain.events import Heartbeat, ServiceRegistration
from taskdash.domain.models import Service, normalise_service_url, url_origin
from taskdash.domain.ports import ServiceHealth
from taskdash.store.sqlite import service_health
from taskdash.store.sqlite.db import SqliteDb

_COLUMNS = (
    "_id, name, reserved, origin, registered_ts, last_beat_ts, last_beat_time, beat_reserved,"
    " online, clock_skew, health_changed_at, metadata_error, metadata_synced_at,"
    " metadata_failures, metadata_next_at"
)


def _row_to_service(row: sqlite3.Row) -> Service:
    values = tuple(row)
    service = Service(*values)
    service.online = bool(service.online)
    service.clock_skew = bool(service.clock_skew)
    return service


def _get(conn: sqlite3.Connection, url: str) -> Service | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM services WHERE _id = ?", (url,)).fetchone()
    return _row_to_service(row) if row else None


def _match(conn: sqlite3.Connection, url: str) -> Service | None:
    """The service a heartbeat URL belongs to: same normalised URL, else its only origin match."""
    service = _get(conn, normalise_service_url(url))
    if service is not None:
        return service
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM services WHERE origin = ? LIMIT 2", (url_origin(url),)
    ).fetchall()
    return _row_to_service(rows[0]) if len(rows) == 1 else None


class SqliteServiceRepo:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def register(self, *, reg: ServiceRegistration, ts_ns: int, now: float) -> Service:
        key = normalise_service_url(reg.url)

        def register(conn: sqlite3.Connection) -> Service:
            current = _get(conn, key)
            if current is None:
                conn.execute(
                    "INSERT INTO services (_id, name, reserved, origin, registered_ts, online,"
                    " health_changed_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
                    (key, reg.name, reg.reserved, url_origin(key), ts_ns, now),
                )
                service_health.add_transition(conn, service=key, at=now, online=True)
            elif ts_ns > current.registered_ts:
                conn.execute(
                    "UPDATE services SET name = ?, reserved = ?, registered_ts = ? WHERE _id = ?",
                    (reg.name, reg.reserved, ts_ns, key),
                )
            service = _get(conn, key)
            assert service is not None
            return service

        return await self._db.write(register)

    async def record_heartbeat(
        self, *, hb: Heartbeat, ts_ns: int, now: float, timeout_s: float, max_skew_s: float
    ) -> Service | None:
        def record(conn: sqlite3.Connection) -> Service | None:
            service = _match(conn, hb.url)
            conn.execute(
                "INSERT INTO heartbeats (_id, time, reserved, ts, service, count)"
                " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT(_id) DO UPDATE SET"
                " time = CASE WHEN excluded.ts > ts THEN excluded.time ELSE time END,"
                " reserved = CASE WHEN excluded.ts > ts THEN excluded.reserved ELSE reserved END,"
                " ts = max(ts, excluded.ts), service = excluded.service, count = count + 1",
                (hb.url, hb.time, hb.reserved, ts_ns, service.url if service else ""),
            )
            if service is None:
                return None
            fresh = now - ts_ns / 1e9 <= timeout_s
            if not fresh or ts_ns <= service.last_beat_ts:
                return service
            skew = abs(hb.time - ts_ns / 1e9) > max_skew_s
            cursor = conn.execute(
                "UPDATE services SET last_beat_ts = ?, last_beat_time = ?, beat_reserved = ?,"
                " clock_skew = ?, online = 1,"
                " health_changed_at = CASE WHEN online = 0 THEN ? ELSE health_changed_at END"
                " WHERE _id = ? AND last_beat_ts < ?",
                (ts_ns, hb.time, hb.reserved, int(skew), now, service.url, ts_ns),
            )
            # `service` was read in this same write transaction: it was offline until now.
            if cursor.rowcount == 1 and not service.online:
                service_health.add_transition(conn, service=service.url, at=now, online=True)
            return _get(conn, service.url)

        return await self._db.write(record)

    async def all(self) -> list[Service]:
        # A table of a few services, read for every claim and list page: too small to be worth a
        # hop to a reader thread.
        return self._db.lookup(
            lambda conn: [
                _row_to_service(r)
                for r in conn.execute(f"SELECT {_COLUMNS} FROM services ORDER BY _id").fetchall()
            ]
        )

    async def sweep_health(self, *, now: float, timeout_s: float) -> list[Service]:
        cutoff_ns = int((now - timeout_s) * 1_000_000_000)

        def sweep(conn: sqlite3.Connection) -> list[Service]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM services WHERE online = 1"
                " AND max(last_beat_ts, registered_ts) < ?",
                (cutoff_ns,),
            ).fetchall()
            changed = []
            for row in rows:
                service = _row_to_service(row)
                cursor = conn.execute(
                    "UPDATE services SET online = 0, health_changed_at = ?"
                    " WHERE _id = ? AND online = 1 AND last_beat_ts = ? AND registered_ts = ?",
                    (now, service.url, service.last_beat_ts, service.registered_ts),
                )
                if cursor.rowcount == 1:
                    service_health.add_transition(conn, service=service.url, at=now, online=False)
                    service.online = False
                    service.health_changed_at = now
                    changed.append(service)
            return changed

        return await self._db.write(sweep)

    async def record_metadata_sync(
        self, *, url: str, error: str, now: float, failures: int, next_at: float
    ) -> None:
        """The outcome of one metadata pull: its error ('' when it worked) and the next try."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE services SET metadata_error = :error, metadata_failures = :failures,"
                " metadata_next_at = :next_at,"
                " metadata_synced_at ="
                " CASE WHEN :error = '' THEN :now ELSE metadata_synced_at END,"
                " metadata_errors = metadata_errors + (:error != ''),"
                " last_metadata_error ="
                " CASE WHEN :error = '' THEN last_metadata_error ELSE :error END,"
                " last_metadata_error_at ="
                " CASE WHEN :error = '' THEN last_metadata_error_at ELSE :now END"
                " WHERE _id = :url",
                {"error": error, "failures": failures, "next_at": next_at, "now": now, "url": url},
            )
        )

    async def health_history(self, *, since: float, until: float) -> list[ServiceHealth]:
        def read(conn: sqlite3.Connection) -> list[ServiceHealth]:
            conn.execute("BEGIN")  # one snapshot: each service's state agrees with its history
            try:
                services = [
                    _row_to_service(r)
                    for r in conn.execute(f"SELECT {_COLUMNS} FROM services ORDER BY _id")
                ]
                return service_health.health_history(conn, services, since=since, until=until)
            finally:
                conn.execute("COMMIT")

        return await self._db.read(read)

    async def prune_transitions(self, *, before: float) -> int:
        return await self._db.write(
            lambda conn: service_health.prune_transitions(conn, before=before)
        )

    async def unknown_heartbeats(self) -> dict[str, int]:
        return await self._db.read(
            lambda conn: {
                url: count
                for url, count in conn.execute(
                    "SELECT _id, count FROM heartbeats WHERE service = '' ORDER BY _id"
                )
            }
        )
