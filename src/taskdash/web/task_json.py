"""Task answers as JSON bytes without a pydantic model per task (the hot list and claim answers).

The bytes are the ones FastAPI sends for the declared models (`schemas.TaskOut`, `TaskPage`):
pydantic-core's own serializer (`to_json`) writes them, from plain dicts whose values are
already what validating the model would give (tests/web/test_task_json.py checks both, byte for
byte). A page's further fields are further keys of its dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from pydantic_core import to_json

from taskdash.domain.models import Task
from taskdash.domain.task_record import API_TASK_FIELDS, COMPAT_TASK_FIELDS, FieldKind, TaskField

_FLOAT_KINDS = frozenset({FieldKind.FLOAT, FieldKind.OPTIONAL_FLOAT})


def _reader(fields: tuple[TaskField, ...]) -> tuple[tuple[str, ...], attrgetter[Any]]:
    return tuple(field.json for field in fields), attrgetter(*(field.attr for field in fields))


_API_KEYS, _api_values = _reader(API_TASK_FIELDS)
_COMPAT_KEYS, _compat_values = _reader(COMPAT_TASK_FIELDS)
# Validation turns a whole number given for a float field into a float (5 -> 5.0).
_FLOAT_KEYS = tuple(field.json for field in API_TASK_FIELDS if field.kind in _FLOAT_KINDS)


def service_online(task: Task, offline: tuple[str, ...]) -> bool:
    """False when the task's service is registered and offline (SPEC §3)."""
    return not (task.origin and task.origin in offline)


def api_task(task: Task, *, offline: tuple[str, ...] = ()) -> dict[str, Any]:
    """The REST API's task (`schemas.TaskOut`) as a dict of JSON-ready values."""
    item = dict(zip(_API_KEYS, _api_values(task), strict=True))
    for key in _FLOAT_KEYS:
        value = item[key]
        if type(value) is not float and value is not None:
            item[key] = float(value)
    item["ServiceOnline"] = service_online(task, offline)
    return item


def compat_task(task: Task) -> dict[str, Any]:
    """The seed's 12-key task (`/rpost/task` answers)."""
    return dict(zip(_COMPAT_KEYS, _compat_values(task), strict=True))


def task_page(
    tasks: Sequence[Task], *, offline: tuple[str, ...], next_cursor: str | None
) -> dict[str, Any]:
    """A list page (`schemas.TaskPage`) as a dict of JSON-ready values."""
    return {"items": [api_task(t, offline=offline) for t in tasks], "next_cursor": next_cursor}


def json_bytes(content: Any) -> bytes:
    """Compact JSON as pydantic writes a model (UTF-8, not ASCII-escaped; inf and NaN as null)."""
    return to_json(content, inf_nan_mode="null")
