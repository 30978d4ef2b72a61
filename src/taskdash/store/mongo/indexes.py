"""The MongoDB index set, created at start-up; it mirrors the SQLite indexes in sqlite/schema.py.

Every list query of TaskQuery is an equality prefix followed by (time, _id), so each is served by
one index in order, with `after` as a range on it: a page costs O(log n + page).
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import OperationFailure

from taskdash.domain.models import CLAIMED, UNCLAIMED
from taskdash.store.mongo.client import Database

logger = logging.getLogger(__name__)

NOT_IMPLEMENTED = 238  # FerretDB v1 answers this to partialFilterExpression


def _index(
    name: str, *fields: str, partial: dict[str, Any] | None = None, unique: bool = False
) -> IndexModel:
    options: dict[str, Any] = {"name": name}
    if partial is not None:
        options["partialFilterExpression"] = partial
    if unique:
        options["unique"] = True
    return IndexModel([(field, ASCENDING) for field in fields], **options)


# Partial indexes leave out the many tasks they never serve (no user, no checker, not claimed);
# queries on them carry an equality that implies the filter ({user: "a"} implies user > "").
_HAS_USER = {"user": {"$gt": ""}}
_HAS_CHECKER = {"checker": {"$gt": ""}}

INDEXES: dict[str, tuple[IndexModel, ...]] = {
    "tasks": (
        _index("tasks_unclaimed", "status", "user", "time", "_id"),
        _index("tasks_status", "status", "time", "_id"),
        _index("tasks_user", "user", "time", "_id", partial=_HAS_USER),
        _index("tasks_user_status", "user", "status", partial=_HAS_USER),
        _index("tasks_checker", "checker", "time", "_id", partial=_HAS_CHECKER),
        _index("tasks_group", "group", "time", "_id"),
        _index("tasks_type", "type", "time", "_id"),
        _index("tasks_project", "project_id", "time", "_id"),
        _index("tasks_time", "time", "_id"),
        _index("tasks_claimed", "claimed_at", partial={"status": CLAIMED}),
        _index("tasks_origin", "origin", "status"),
        # The oldest unclaimed task of a project/type/group (stats): one seek.
        _index(
            "tasks_unclaimed_oldest",
            *("status", "user", "project_id", "type", "group", "time"),
            partial={"status": UNCLAIMED, "user": ""},
        ),
        # The history sweep's order (history.py): every write carrying lines, by its time.
        _index(
            "tasks_pending_history",
            "pending_since",
            "_id",
            partial={"pending_since": {"$exists": True}},
        ),
    ),
    "services": (_index("services_origin", "origin"),),
    "heartbeats": (_index("heartbeats_service", "service"),),
    "task_counts": (_index("task_counts_user", "user"), _index("task_counts_checker", "checker")),
    "task_metadata": (_index("task_metadata_service", "service"),),
    "users": (_index("users_group", "group"), _index("users_name_key", "name_key", unique=True)),
    "login_failures": (_index("login_failures_window", "window_start"),),
    "sessions": (
        _index("sessions_user", "user"),
        _index("sessions_expiry", "expires_at"),
    ),
    "task_events": (
        _index("task_events_task", "task_id", "_id"),
        # A line's identity: copying it twice stores it once (lines copied in from another
        # store, and those from before identities, have none).
        _index("task_events_key", "key", unique=True, partial={"key": {"$type": "string"}}),
    ),
    "dead_letters": (
        _index("dead_letters_at", "at", "_id"),
        _index("dead_letters_short_id", "short_id"),
    ),
    # Activity rollups (activity.py): one document per key, found by it for each `$inc`.
    "activity_hourly": (
        _index("activity_hourly_key", "hour", "project_id", "type", "group", "user", unique=True),
    ),
    "activity_transitions": (
        _index(
            "activity_transitions_key",
            *("hour", "project_id", "type", "user", "from_status", "to_status"),
            unique=True,
        ),
    ),
    "activity_status_hourly": (
        _index(
            "activity_status_hourly_key",
            *("hour", "project_id", "type", "from_status", "to_status"),
            unique=True,
        ),
    ),
    "activity_queue": (_index("activity_queue_key", "project_id", "type", "group", unique=True),),
    "activity_holding": (
        _index("activity_holding_key", "user", "project_id", "type", "status", unique=True),
    ),
    "activity_cycles": (_index("activity_cycles_changed", "changed_at"),),
}


async def ensure_indexes(db: Database) -> None:
    """Create every index that is missing (idempotent, safe for several instances at once)."""
    made_full: list[str] = []
    for collection, models in INDEXES.items():
        for model in models:
            try:
                await db[collection].create_indexes([model])
            except OperationFailure as exc:
                if exc.code != NOT_IMPLEMENTED or "partialFilterExpression" not in model.document:
                    raise
                # A server without partial indexes (FerretDB v1) gets the full index instead:
                # the same queries are served, only with more index entries.
                options = dict(model.document)
                del options["partialFilterExpression"]
                keys = options.pop("key")
                await db[collection].create_indexes([IndexModel(list(keys.items()), **options)])
                made_full.append(options["name"])
    if made_full:
        logger.info("mongodb: no partial indexes on this server; full ones: %s", made_full)
