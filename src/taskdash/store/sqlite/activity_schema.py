"""The activity rollups' migration: hourly counts, current holdings, cycle records, triggers.

Triggers keep them in the same transaction as the write they count, so nothing else in the
store has to know of them. On `tasks`: what enters the unclaimed queue (status 待领取, no user)
and leaves it, by the task's project, type and group, and what each user holds by status. On
`task_events` (a history line, read with its task as written): claims (a line giving the task a
holder), releases and expiries by user, every status change by the holder, and a cycle record
(claim time, change time) for every change of a held task's status by its service, so that the
statistics choose the finished statuses when they read, not when the line was written. Hours
are Unix seconds at the start of the UTC hour.

Data stored before this migration is rolled up from the history as it is: a history line is
counted under its task's current project, type and holder, and the queue's length before the
upgrade is reconstructed backwards from today's queue (a correction at hour 0 makes the sum of
all the queue's deltas equal the unclaimed tasks stored now).
"""

from __future__ import annotations

_HOUR = "(CAST({at} / 3600 AS INTEGER) * 3600)"
_MESSAGE_ACTIONS = "('register', 'update', 'metadata')"


def _hour(at: str) -> str:
    return _HOUR.format(at=at)


def _queued(row: str) -> str:
    """1 when the task row `row` (OLD or NEW) is in the unclaimed queue, else 0."""
    return f"({row}.status = '待领取' AND {row}.user = '')"


def _queue_change(row: str, sign: str, at: str) -> str:
    return f"""
        INSERT INTO activity_hourly (hour, project_id, type, "group", user, queue_delta)
            SELECT {_hour(at)}, {row}.project_id, {row}.type, {row}."group", '', {sign}1
            WHERE {_queued(row)}
            ON CONFLICT (hour, project_id, type, "group", user)
            DO UPDATE SET queue_delta = queue_delta {sign} 1;"""


def _queue_total_change(row: str, sign: str) -> str:
    return f"""
        INSERT INTO activity_queue (project_id, type, "group", count)
            SELECT {row}.project_id, {row}.type, {row}."group", {sign}1 WHERE {_queued(row)}
            ON CONFLICT (project_id, type, "group") DO UPDATE SET count = count {sign} 1;"""


def _holding_change(row: str, sign: str) -> str:
    return f"""
        INSERT INTO activity_holding (user, project_id, type, status, count)
            SELECT {row}.user, {row}.project_id, {row}.type, {row}.status, {sign}1
            WHERE {row}.user != ''
            ON CONFLICT (user, project_id, type, status) DO UPDATE SET count = count {sign} 1;"""


def _line_count(column: str, user: str, condition: str, group: str = "''") -> str:
    return f"""
        INSERT INTO activity_hourly (hour, project_id, type, "group", user, {column})
            SELECT {_hour("NEW.at")}, t.project_id, t.type, {group}, {user}, 1
            FROM tasks AS t WHERE t._id = NEW.task_id AND {condition}
            ON CONFLICT (hour, project_id, type, "group", user)
            DO UPDATE SET {column} = {column} + 1;"""


# The holder a line speaks of: a service message never changes the task's user.
_LINE_HOLDER = f"CASE WHEN e.action IN {_MESSAGE_ACTIONS} THEN t.user ELSE e.to_user END"
_LINE_HOLDER_BEFORE = f"CASE WHEN e.action IN {_MESSAGE_ACTIONS} THEN t.user ELSE e.from_user END"

ACTIVITY_MIGRATION = f"""
    CREATE TABLE activity_hourly (
        hour INTEGER NOT NULL,
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        "group" TEXT NOT NULL,
        user TEXT NOT NULL,
        created INTEGER NOT NULL DEFAULT 0,
        queue_delta INTEGER NOT NULL DEFAULT 0,
        claimed INTEGER NOT NULL DEFAULT 0,
        released INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, project_id, type, "group", user)
    ) WITHOUT ROWID;
    CREATE TABLE activity_transitions (
        hour INTEGER NOT NULL,
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        user TEXT NOT NULL,
        from_status TEXT NOT NULL,
        to_status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (hour, project_id, type, user, from_status, to_status)
    ) WITHOUT ROWID;
    CREATE INDEX activity_hourly_user ON activity_hourly (user, hour) WHERE user != '';
    -- The group totals alone, covered: a range of hours reads no user's rows.
    CREATE INDEX activity_hourly_groups ON activity_hourly
        (hour, project_id, type, "group", created, queue_delta, claimed) WHERE user = '';
    CREATE INDEX activity_transitions_user ON activity_transitions (user, hour);
    CREATE TABLE activity_status_hourly (
        hour INTEGER NOT NULL,
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        from_status TEXT NOT NULL,
        to_status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (hour, project_id, type, from_status, to_status)
    ) WITHOUT ROWID;
    CREATE TABLE activity_queue (
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        "group" TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (project_id, type, "group")
    ) WITHOUT ROWID;
    CREATE TABLE activity_holding (
        user TEXT NOT NULL,
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (user, project_id, type, status)
    ) WITHOUT ROWID;
    CREATE TABLE activity_cycles (
        seq INTEGER PRIMARY KEY,
        changed_at REAL NOT NULL,
        claimed_at REAL,
        user TEXT NOT NULL,
        project_id TEXT NOT NULL,
        type TEXT NOT NULL,
        from_status TEXT NOT NULL,
        to_status TEXT NOT NULL,
        duration_s REAL
    );
    CREATE INDEX activity_cycles_changed ON activity_cycles
        (changed_at, to_status, from_status, type, user, project_id, duration_s);

    CREATE TRIGGER activity_task_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO activity_hourly (hour, project_id, type, "group", user, created, queue_delta)
            VALUES ({_hour("NEW.updated_at")}, NEW.project_id, NEW.type, NEW."group", '', 1,
                {_queued("NEW")})
            ON CONFLICT (hour, project_id, type, "group", user) DO UPDATE SET
                created = created + 1, queue_delta = queue_delta + excluded.queue_delta;
        {_queue_total_change("NEW", "+")}
        {_holding_change("NEW", "+")}
    END;
    CREATE TRIGGER activity_task_update AFTER UPDATE OF status, user, "group", project_id, type
        ON tasks
        WHEN OLD.status IS NOT NEW.status OR OLD.user IS NOT NEW.user
            OR OLD."group" IS NOT NEW."group" OR OLD.project_id IS NOT NEW.project_id
            OR OLD.type IS NOT NEW.type
    BEGIN
        {_queue_change("OLD", "-", "NEW.updated_at")}
        {_queue_change("NEW", "+", "NEW.updated_at")}
        {_queue_total_change("OLD", "-")}
        {_queue_total_change("NEW", "+")}
        {_holding_change("OLD", "-")}
        {_holding_change("NEW", "+")}
    END;
    CREATE TRIGGER activity_line AFTER INSERT ON task_events BEGIN
        {_line_count("claimed", "NEW.to_user", "NEW.to_user NOT IN ('', NEW.from_user)")}
        {_line_count("claimed", "''", "NEW.to_user NOT IN ('', NEW.from_user)", 't."group"')}
        {_line_count("released", "NEW.from_user", "NEW.action = 'release' AND NEW.from_user != ''")}
        {_line_count("expired", "NEW.from_user", "NEW.action = 'expire' AND NEW.from_user != ''")}
        INSERT INTO activity_transitions
            (hour, project_id, type, user, from_status, to_status, count)
            SELECT {_hour("NEW.at")}, t.project_id, t.type,
                CASE WHEN NEW.action IN {_MESSAGE_ACTIONS} THEN t.user ELSE NEW.to_user END,
                NEW.from_status, NEW.to_status, 1
            FROM tasks AS t WHERE t._id = NEW.task_id
                AND NEW.action != 'create' AND NEW.from_status != NEW.to_status
            ON CONFLICT (hour, project_id, type, user, from_status, to_status)
            DO UPDATE SET count = count + 1;
        INSERT INTO activity_status_hourly
            (hour, project_id, type, from_status, to_status, count)
            SELECT {_hour("NEW.at")}, t.project_id, t.type, NEW.from_status, NEW.to_status, 1
            FROM tasks AS t WHERE t._id = NEW.task_id
                AND NEW.action != 'create' AND NEW.from_status != NEW.to_status
            ON CONFLICT (hour, project_id, type, from_status, to_status)
            DO UPDATE SET count = count + 1;
        INSERT INTO activity_cycles (seq, changed_at, claimed_at, user, project_id, type,
                from_status, to_status, duration_s)
            SELECT NEW.seq, NEW.at, t.claimed_at, t.user, t.project_id, t.type,
                NEW.from_status, NEW.to_status, max(0.0, NEW.at - t.claimed_at)
            FROM tasks AS t WHERE t._id = NEW.task_id AND t.user != ''
                AND NEW.action IN {_MESSAGE_ACTIONS} AND NEW.from_status != NEW.to_status
                AND NEW.to_status NOT IN ('待领取', '已领取');
    END;

    INSERT INTO activity_queue (project_id, type, "group", count)
        SELECT project_id, type, "group", count(*) FROM tasks
        WHERE status = '待领取' AND user = '' GROUP BY 1, 2, 3;
    INSERT INTO activity_holding (user, project_id, type, status, count)
        SELECT user, project_id, type, status, count(*) FROM tasks WHERE user != ''
        GROUP BY user, project_id, type, status;
    INSERT INTO activity_hourly (hour, project_id, type, "group", user, created, queue_delta)
        SELECT {_hour("e.at")}, t.project_id, t.type, t."group", '',
            sum(e.action = 'create'),
            sum((e.to_status = '待领取' AND {_LINE_HOLDER} = '')
                - (e.action != 'create' AND e.from_status = '待领取'
                    AND {_LINE_HOLDER_BEFORE} = ''))
        FROM task_events AS e JOIN tasks AS t ON t._id = e.task_id
        GROUP BY 1, 2, 3, 4;
    INSERT INTO activity_hourly (hour, project_id, type, "group", user, queue_delta)
        SELECT 0, project_id, type, "group", '', sum(delta) FROM (
            SELECT project_id, type, "group", count AS delta FROM activity_queue
            UNION ALL
            SELECT project_id, type, "group", -sum(queue_delta) FROM activity_hourly
                GROUP BY 1, 2, 3
        ) GROUP BY 1, 2, 3 HAVING sum(delta) != 0
        ON CONFLICT (hour, project_id, type, "group", user)
        DO UPDATE SET queue_delta = queue_delta + excluded.queue_delta;
    INSERT INTO activity_hourly (hour, project_id, type, "group", user, claimed, released, expired)
        SELECT hour, project_id, type, '', user, sum(claimed), sum(released), sum(expired)
        FROM (
            SELECT {_hour("e.at")} AS hour, t.project_id, t.type, e.to_user AS user,
                1 AS claimed, 0 AS released, 0 AS expired
            FROM task_events AS e JOIN tasks AS t ON t._id = e.task_id
            WHERE e.to_user NOT IN ('', e.from_user)
            UNION ALL
            SELECT {_hour("e.at")}, t.project_id, t.type, e.from_user,
                0, e.action = 'release', e.action = 'expire'
            FROM task_events AS e JOIN tasks AS t ON t._id = e.task_id
            WHERE e.action IN ('release', 'expire') AND e.from_user != ''
        ) GROUP BY 1, 2, 3, 5
        ON CONFLICT (hour, project_id, type, "group", user) DO UPDATE SET
            claimed = claimed + excluded.claimed, released = released + excluded.released,
            expired = expired + excluded.expired;
    INSERT INTO activity_transitions
        (hour, project_id, type, user, from_status, to_status, count)
        SELECT {_hour("e.at")}, t.project_id, t.type, {_LINE_HOLDER}, e.from_status,
            e.to_status, count(*)
        FROM task_events AS e JOIN tasks AS t ON t._id = e.task_id
        WHERE e.action != 'create' AND e.from_status != e.to_status
        GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO activity_status_hourly (hour, project_id, type, from_status, to_status, count)
        SELECT hour, project_id, type, from_status, to_status, sum(count)
        FROM activity_transitions GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO activity_hourly (hour, project_id, type, "group", user, claimed)
        SELECT {_hour("e.at")}, t.project_id, t.type, t."group", '', count(*)
        FROM task_events AS e JOIN tasks AS t ON t._id = e.task_id
        WHERE e.to_user NOT IN ('', e.from_user)
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (hour, project_id, type, "group", user)
        DO UPDATE SET claimed = claimed + excluded.claimed;
    INSERT INTO activity_cycles (seq, changed_at, claimed_at, user, project_id, type,
            from_status, to_status, duration_s)
        SELECT e.seq, e.at, t.claimed_at, t.user, t.project_id, t.type, e.from_status,
            e.to_status, max(0.0, e.at - t.claimed_at)
        FROM task_events AS e JOIN tasks AS t ON t._id = e.task_id
        WHERE t.user != '' AND e.action IN {_MESSAGE_ACTIONS}
            AND e.from_status != e.to_status AND e.to_status NOT IN ('待领取', '已领取')
"""
