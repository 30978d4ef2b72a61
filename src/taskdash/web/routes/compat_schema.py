"""The OpenAPI description of `POST /rpost/task` (its handler reads the body itself)."""

from __future__ import annotations

from typing import Any

from taskdash.domain.task_record import COMPAT_TASK_FIELDS, COMPAT_TASK_KEYS, FieldKind

OPERATION_NAMES = (
    "userLogin",
    "GetTasksNoUser",
    "GetTasksByUser",
    "GetTasksByStatus",
    "TaskBind",
    "TaskAssign",
    "TaskRelease",
)
_TEXT = {"type": "string"}
_PARAMS: dict[str, Any] = {
    "type": "object",
    "required": ["operation"],
    "properties": {
        "operation": {"type": "string", "enum": list(OPERATION_NAMES)},
        "username": _TEXT,
        "password": _TEXT,
        "user": _TEXT,
        "checker": _TEXT,
        "group": _TEXT,
        "status": _TEXT,
        "TaskType": _TEXT,
        "ProjectID": _TEXT,
        "ID": _TEXT,
        "IDs": {"type": "array", "items": _TEXT},
        "limit": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0},
    },
}
_COMPAT_TASK: dict[str, Any] = {
    "type": "object",
    "required": list(COMPAT_TASK_KEYS),
    "properties": {
        field.json: {"type": "integer"} if field.kind is FieldKind.INT64 else _TEXT
        for field in COMPAT_TASK_FIELDS
    },
    "additionalProperties": False,
}
_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["errid", "errmsg"],
    "properties": {
        "errid": {"type": "integer"},
        "errmsg": _TEXT,
        "detail": _TEXT,
        "request_id": _TEXT,
    },
}

RPOST_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _PARAMS},
            "application/x-www-form-urlencoded": {"schema": _PARAMS},
        },
    },
}
RPOST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": '`"success"`, a list of tasks, or `{errid, errmsg}` (errors are HTTP 200)',
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"type": "string", "enum": ["success"]},
                        {"type": "array", "items": _COMPAT_TASK},
                        _ERROR,
                    ]
                }
            }
        },
    }
}
