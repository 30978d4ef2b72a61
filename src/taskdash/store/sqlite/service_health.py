"""SQLite service health over time: online/offline transitions and metadata-sync errors.

A transition is written in the same transaction as the conditional write that changes the
service's `online`, and only when that write changed it, so instances sharing the file never
write one twice.
"""

from __future__ import annotations

import sqlite3

from taskdash.domain.models import Service
from taskdash.domain.ports import HealthTransition, ServiceHealth


def add_transition(conn: sqlite3.Connection, *, service: str, at: float, online: bool) -> None:
    conn.execute(
        "INSERT INTO service_transitions (service, at, online) VALUES (?, ?, ?)",
        (service, at, int(online)),
    )


def health_history(
    conn: sqlite3.Connection, services: list[Service], *, since: float, until: float
) -> list[ServiceHealth]:
    """Each service with its last transition at or before `since`, then those up to `until`."""
    transitions: dict[str, list[HealthTransition]] = {}
    for service in services:
        before = conn.execute(
            "SELECT at, online FROM service_transitions WHERE service = ? AND at <= ?"
            " ORDER BY at DESC LIMIT 1",
            (service.url, since),
        ).fetchone()
        if before is not None:
            transitions[service.url] = [HealthTransition(before[0], bool(before[1]))]
    during = conn.execute(
        "SELECT service, at, online FROM service_transitions WHERE at > ? AND at <= ? ORDER BY at",
        (since, until),
    )
    for service_url, at, online in during:
        transitions.setdefault(service_url, []).append(HealthTransition(at, bool(online)))
    errors = {
        url: (count, text, at)
        for url, count, text, at in conn.execute(
            "SELECT _id, metadata_errors, last_metadata_error, last_metadata_error_at FROM services"
        )
    }
    out = []
    for service in services:
        count, text, at = errors.get(service.url, (0, "", None))
        out.append(
            ServiceHealth(
                service=service,
                transitions=tuple(transitions.get(service.url, ())),
                metadata_errors=count,
                last_metadata_error=text,
                last_metadata_error_at=at,
            )
        )
    return out


def prune_transitions(conn: sqlite3.Connection, *, before: float) -> int:
    """Delete transitions older than `before` but each service's latest (its state since)."""
    cursor = conn.execute(
        "DELETE FROM service_transitions WHERE at < ? AND at < ("
        " SELECT max(kept.at) FROM service_transitions AS kept"
        " WHERE kept.service = service_transitions.service AND kept.at < ?)",
        (before, before),
    )
    return cursor.rowcount
