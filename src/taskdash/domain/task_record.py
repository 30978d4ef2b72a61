"""The task record spelled out once: each field's attribute, stored name, JSON key and kind.

SQLite rows, MongoDB documents, the seed's compatible JSON and the REST API's task are derived
from TASK_FIELDS. Adding a field means adding it to `models.Task` and here, plus a SQLite
migration (tests check both against this list).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskdash.domain.models import Task


class FieldKind(enum.Enum):
    """What a field holds, which decides how each backend encodes it."""

    TEXT = "text"  # str
    INT64 = "int64"  # int, an int64 in bson (like the seed's CreateTime)
    INT = "int"  # int
    FLOAT = "float"  # float (seconds)
    OPTIONAL_FLOAT = "optional float"  # float or None
    STATUS_SOURCE = "status source"  # models.StatusSource, stored as its int


@dataclass(frozen=True, slots=True)
class TaskField:
    """One field of the task record and its name in each place it is kept."""

    attr: str  # the attribute of models.Task
    stored: str  # the bson name, which the SQLite column mirrors (SPEC §5)
    kind: FieldKind
    json: str = ""  # the key in the API's task ("": bookkeeping the API does not show)
    seed: bool = False  # one of the seed's 12 keys (the compatible /rpost/task answer)


_TEXT, _INT64, _INT = FieldKind.TEXT, FieldKind.INT64, FieldKind.INT
_FLOAT, _OPTIONAL_FLOAT = FieldKind.FLOAT, FieldKind.OPTIONAL_FLOAT

TASK_FIELDS: tuple[TaskField, ...] = (
    TaskField("id", "_id", _TEXT, "ID", seed=True),
    TaskField("project_id", "project_id", _TEXT, "ProjectID", seed=True),
    TaskField("instance_id", "instance_id", _TEXT, "InstanceID", seed=True),
    TaskField("task_id", "task_id", _TEXT, "TaskID", seed=True),
    TaskField("type", "type", _TEXT, "TaskType", seed=True),
    TaskField("url", "url", _TEXT, "URL", seed=True),
    TaskField("status", "status", _TEXT, "Status", seed=True),
    TaskField("time", "time", _INT64, "CreateTime", seed=True),
    TaskField("user", "user", _TEXT, "User", seed=True),
    TaskField("checker", "checker", _TEXT, "Checker", seed=True),
    TaskField("group", "group", _TEXT, "Group", seed=True),
    TaskField("reserved", "reserved", _TEXT, "Reserved", seed=True),
    TaskField("edit_info", "edit_info", _TEXT, "EditInfo"),
    TaskField("origin", "origin", _TEXT),
    TaskField("claimed_at", "claimed_at", _OPTIONAL_FLOAT, "ClaimedAt"),
    TaskField("updated_at", "updated_at", _FLOAT, "UpdatedAt"),
    TaskField("status_ts", "status_ts", _INT64),
    TaskField("status_src", "status_src", FieldKind.STATUS_SOURCE),
    TaskField("fields_ts", "fields_ts", _INT64),
    TaskField("rev", "rev", _INT),
    # Publish time (ns) of the message that last set each optional service-owned field.
    TaskField("url_ts", "url_ts", _INT64),
    TaskField("edit_info_ts", "edit_info_ts", _INT64),
    TaskField("time_ts", "time_ts", _INT64),
    TaskField("reserved_ts", "reserved_ts", _INT64),
)
COMPAT_TASK_FIELDS = tuple(field for field in TASK_FIELDS if field.seed)
COMPAT_TASK_KEYS: tuple[str, ...] = tuple(field.json for field in COMPAT_TASK_FIELDS)
API_TASK_FIELDS = tuple(field for field in TASK_FIELDS if field.json)


def task_json(task: Task, fields: tuple[TaskField, ...] = API_TASK_FIELDS) -> dict[str, Any]:
    """The task's values under their JSON keys, in the record's order."""
    return {field.json: getattr(task, field.attr) for field in fields}
