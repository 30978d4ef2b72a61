"""SQLite schema and its versioned migrations (PRAGMA user_version)."""

from __future__ import annotations

import hashlib
import sqlite3

from taskdash.domain.user_names import user_name_key
from taskdash.store.sqlite.activity_schema import ACTIVITY_MIGRATION

# Each entry moves the schema from version N to N+1; never edit one that has shipped.
# Statements end at a ";" that ends a complete statement (a trigger's body keeps its own).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tasks (
        _id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        type TEXT NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        time INTEGER NOT NULL DEFAULT 0,
        user TEXT NOT NULL DEFAULT '',
        checker TEXT NOT NULL DEFAULT '',
        "group" TEXT NOT NULL DEFAULT '',
        reserved TEXT NOT NULL DEFAULT '',
        edit_info TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL DEFAULT '',
        claimed_at REAL,
        updated_at REAL NOT NULL,
        status_ts INTEGER NOT NULL,
        status_src INTEGER NOT NULL,
        fields_ts INTEGER NOT NULL,
        rev INTEGER NOT NULL
    );
    -- A rowid table: inserts append, and every index holds a small rowid, not the _id.
    CREATE UNIQUE INDEX tasks_pk ON tasks (_id);
    CREATE INDEX tasks_unclaimed ON tasks (status, user, time, _id);
    CREATE INDEX tasks_status ON tasks (status, time, _id);
    -- Partial indexes leave out the many rows they never serve (no user, no checker, not
    -- claimed), so a new task costs fewer index writes (queries repeat their conditions).
    CREATE INDEX tasks_user ON tasks (user, time, _id) WHERE user != '';
    CREATE INDEX tasks_user_status ON tasks (user, status) WHERE user != '';
    CREATE INDEX tasks_checker ON tasks (checker, time, _id) WHERE checker != '';
    CREATE INDEX tasks_group ON tasks ("group", time, _id);
    CREATE INDEX tasks_type ON tasks (type, time, _id);
    CREATE INDEX tasks_project ON tasks (project_id, time, _id);
    CREATE INDEX tasks_time ON tasks (time, _id);
    CREATE INDEX tasks_claimed ON tasks (claimed_at) WHERE status = '已领取';
    CREATE INDEX tasks_origin ON tasks (origin, status);

    CREATE TABLE services (
        _id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        reserved TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL,
        registered_ts INTEGER NOT NULL,
        last_beat_ts INTEGER NOT NULL DEFAULT 0,
        last_beat_time INTEGER NOT NULL DEFAULT 0,
        beat_reserved TEXT NOT NULL DEFAULT '',
        online INTEGER NOT NULL DEFAULT 1,
        clock_skew INTEGER NOT NULL DEFAULT 0,
        health_changed_at REAL NOT NULL DEFAULT 0,
        metadata_error TEXT NOT NULL DEFAULT '',
        metadata_synced_at REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX services_origin ON services (origin);

    CREATE TABLE heartbeats (
        _id TEXT PRIMARY KEY,
        time INTEGER NOT NULL,
        reserved TEXT NOT NULL DEFAULT '',
        ts INTEGER NOT NULL,
        service TEXT NOT NULL DEFAULT '',
        count INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE task_metadata (
        _id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        type TEXT NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT '',
        time INTEGER NOT NULL DEFAULT 0,
        reserved TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        fetched_at REAL NOT NULL DEFAULT 0
    );

    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        "group" TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0,
        lang TEXT NOT NULL DEFAULT 'zh',
        created_at REAL NOT NULL
    );
    CREATE INDEX users_group ON users ("group");

    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user);
    CREATE INDEX sessions_expiry ON sessions (expires_at);

    CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        window_start REAL NOT NULL
    );

    CREATE TABLE task_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        from_status TEXT NOT NULL DEFAULT '',
        to_status TEXT NOT NULL DEFAULT '',
        from_user TEXT NOT NULL DEFAULT '',
        to_user TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX task_events_task ON task_events (task_id, seq);

    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        body BLOB NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        at REAL NOT NULL
    );

    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    """
    CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    ALTER TABLE services ADD COLUMN metadata_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE services ADD COLUMN metadata_next_at REAL NOT NULL DEFAULT 0;
    CREATE INDEX task_metadata_service ON task_metadata (service);
    """,
    """
    ALTER TABLE users ADD COLUMN name_key TEXT;
    UPDATE users SET name_key = taskdash_user_name_key(name);
    -- Names differing only in case could be made before: the oldest keeps the key, the others
    -- get one that also holds their exact name, so they stay unique and log in by exact name.
    UPDATE users SET name_key = name_key || char(0) || name
        WHERE rowid NOT IN (SELECT min(rowid) FROM users GROUP BY name_key);
    CREATE UNIQUE INDEX users_name_key ON users (name_key);
    -- Counter keys change form, and old rows must be purgeable by window.
    DELETE FROM login_failures;
    CREATE INDEX login_failures_window ON login_failures (window_start);
    """,
    """
    ALTER TABLE tasks ADD COLUMN url_ts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tasks ADD COLUMN edit_info_ts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tasks ADD COLUMN time_ts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tasks ADD COLUMN reserved_ts INTEGER NOT NULL DEFAULT 0;
    -- Until now every message set every field, as of the newest message: fields_ts.
    UPDATE tasks SET url_ts = fields_ts, edit_info_ts = fields_ts, time_ts = fields_ts,
        reserved_ts = fields_ts
    """,
    # Dead letters keep the start of the body with the whole body's size and SHA-256.
    """
    ALTER TABLE dead_letters ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE dead_letters ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
    UPDATE dead_letters SET
        size = length(CAST(body AS BLOB)),
        sha256 = taskdash_sha256(CAST(body AS BLOB)),
        body = substr(CAST(body AS BLOB), 1, 65536),
        reason = CASE WHEN length(reason) > 1024
            THEN substr(reason, 1, 1023) || '…' ELSE reason END
    """,
    ACTIVITY_MIGRATION,
    # Services' online/offline transitions, their metadata-sync error record, dead letters
    # counted by time (the overview's services and stuck-work panels).
    """
    CREATE TABLE service_transitions (
        service TEXT NOT NULL,
        at REAL NOT NULL,
        online INTEGER NOT NULL
    );
    CREATE INDEX service_transitions_service ON service_transitions (service, at);
    CREATE INDEX service_transitions_at ON service_transitions (at);
    -- Each service's state as of its last change starts its history.
    INSERT INTO service_transitions (service, at, online)
        SELECT _id, health_changed_at, online FROM services;
    ALTER TABLE services ADD COLUMN metadata_errors INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE services ADD COLUMN last_metadata_error TEXT NOT NULL DEFAULT '';
    ALTER TABLE services ADD COLUMN last_metadata_error_at REAL;
    CREATE INDEX dead_letters_at ON dead_letters (at)
    """,
    # Task counts by everything the stats and the role slices group by, kept by triggers in the
    # transaction of every task write; the oldest unclaimed task is one seek per project/type/group.
    """
    CREATE TABLE task_counts (
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        "group" TEXT NOT NULL,
        user TEXT NOT NULL,
        checker TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (project_id, type, status, "group", user, checker)
    ) WITHOUT ROWID;
    CREATE INDEX task_counts_user ON task_counts (user) WHERE user != '';
    CREATE INDEX task_counts_checker ON task_counts (checker) WHERE checker != '';
    INSERT INTO task_counts
        SELECT project_id, type, status, "group", user, checker, count(*) FROM tasks
        GROUP BY project_id, type, status, "group", user, checker;
    CREATE INDEX tasks_unclaimed_oldest ON tasks (project_id, type, "group", time)
        WHERE status = '待领取' AND user = '';
    CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_counts VALUES
            (NEW.project_id, NEW.type, NEW.status, NEW."group", NEW.user, NEW.checker, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_counts SET n = n - 1
            WHERE project_id = OLD.project_id AND type = OLD.type AND status = OLD.status
            AND "group" = OLD."group" AND user = OLD.user AND checker = OLD.checker;
    END;
    CREATE TRIGGER task_counts_update
        AFTER UPDATE OF project_id, type, status, "group", user, checker ON tasks
        WHEN OLD.project_id != NEW.project_id OR OLD.type != NEW.type
            OR OLD.status != NEW.status OR OLD."group" != NEW."group"
            OR OLD.user != NEW.user OR OLD.checker != NEW.checker
    BEGIN
        UPDATE task_counts SET n = n - 1
            WHERE project_id = OLD.project_id AND type = OLD.type AND status = OLD.status
            AND "group" = OLD."group" AND user = OLD.user AND checker = OLD.checker;
        INSERT INTO task_counts VALUES
            (NEW.project_id, NEW.type, NEW.status, NEW."group", NEW.user, NEW.checker, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def statements(script: str) -> list[str]:
    """The complete SQL statements of `script`, each with its `;` (a trigger body stays whole)."""
    out: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending)
            pending = ""
    if pending.strip(" \n;"):
        out.append(pending)
    return out


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; refuses a database newer than this code."""
    conn.create_function("taskdash_user_name_key", 1, user_name_key, deterministic=True)
    conn.create_function("taskdash_sha256", 1, _sha256_hex, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {version} is newer than this TaskDash "
                f"({SCHEMA_VERSION}); upgrade TaskDash"
            )
        for index in range(version, SCHEMA_VERSION):
            for statement in statements(MIGRATIONS[index]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={index + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
