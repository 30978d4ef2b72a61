"""Request and response bodies of the REST API (/api/v1)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from taskdash.actions.assignment import AssignPlan
from taskdash.domain.errors import BadRequest
from taskdash.domain.models import Service, Task, TaskEvent, User
from taskdash.domain.task_record import API_TASK_FIELDS, FieldKind, task_json


class ErrorOut(BaseModel):
    """Every error answer: errid and errmsg of SPEC §7.3, and what exactly was wrong."""

    errid: int
    errmsg: str
    detail: str | None = Field(None, description="what was wrong (absent when errmsg says it)")
    request_id: str | None = Field(None, description="on errid 1011: quote it to an operator")


ERROR_SCHEMA_REF = {"$ref": "#/components/schemas/ErrorOut"}
_ERROR_MEANINGS = {
    400: "bad request (errid 1000)",
    401: "not logged in, or wrong user name or password (errid 1004, 1003)",
    403: "forbidden (errid 1005)",
    404: "no such task, or nothing to claim (errid 1006, 1009)",
    409: "task not claimable, or claim limit reached (errid 1007, 1008)",
    429: "too many requests (errid 1010)",
    500: "unexpected error, logged with the request ID (errid 1011)",
    503: "the store failed (errid 1001, 1002)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the error answers a route can give."""
    return {
        status: {"model": ErrorOut, "description": _ERROR_MEANINGS[status]} for status in statuses
    }


def json_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The same for a route whose own answers are not JSON (its errors still are)."""
    return {
        status: {
            "description": _ERROR_MEANINGS[status],
            "content": {"application/json": {"schema": ERROR_SCHEMA_REF}},
        }
        for status in statuses
    }


_API_TYPES: dict[FieldKind, Any] = {
    FieldKind.TEXT: str,
    FieldKind.INT64: int,
    FieldKind.INT: int,
    FieldKind.FLOAT: float,
    FieldKind.OPTIONAL_FLOAT: float | None,
}

if TYPE_CHECKING:
    _TaskRecordOut = BaseModel
else:  # the record's API fields, each required, in the record's order
    _TaskRecordOut = create_model(
        "_TaskRecordOut",
        **{field.json: (_API_TYPES[field.kind], ...) for field in API_TASK_FIELDS},
    )


class TaskOut(_TaskRecordOut):
    """The seed's 12 keys plus what the web pages show."""

    model_config = ConfigDict(populate_by_name=True)

    ServiceOnline: bool

    @classmethod
    def of(cls, task: Task, *, offline: tuple[str, ...] = ()) -> TaskOut:
        online = not (task.origin and task.origin in offline)
        return cls.model_validate({**task_json(task), "ServiceOnline": online})


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class EventOut(BaseModel):
    at: float
    actor: str
    action: str
    from_status: str
    to_status: str
    from_user: str
    to_user: str
    detail: str

    @classmethod
    def of(cls, event: TaskEvent) -> EventOut:
        return cls(**{name: getattr(event, name) for name in cls.model_fields})


class TaskDetail(BaseModel):
    task: TaskOut
    history: list[EventOut]


class UserOut(BaseModel):
    name: str
    role: str
    group: str
    disabled: bool
    lang: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            name=user.name,
            role=user.role.label,
            group=user.group,
            disabled=user.disabled,
            lang=user.lang,
        )


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class MeIn(BaseModel):
    lang: Literal["zh", "en"]


class ClaimNextIn(BaseModel):
    type: str | None = None
    project: str | None = None


class TaskFilter(BaseModel):
    """The list filters, reused by assign-by-filter."""

    status: str | None = None
    user: str | None = None
    checker: str | None = None
    group: str | None = None
    type: str | None = None
    project: str | None = None
    claimed_before: float | None = Field(
        None, allow_inf_nan=False, description="tasks held (已领取) since before this Unix time"
    )


class AssignIn(BaseModel):
    ids: list[str] | None = Field(None, max_length=10_000)
    filter: TaskFilter | None = None
    user: str | None = None
    checker: str | None = None
    group: str | None = None
    strategy: Literal["round_robin", "least_loaded"] | None = None
    all: bool = Field(False, description="assign every task (instead of ids or a filter)")
    override_limit: bool = Field(
        False, description="assign even beyond a user's claim limit (recorded in history)"
    )


class AssignOut(BaseModel):
    assigned: int
    failed: dict[str, str]


PLAN_IDS_SHOWN = 100


class PlanShareOut(BaseModel):
    """One user's part of an assignment plan."""

    user: str = Field(description="who gets the tasks ('': the user is taken off them)")
    tasks: int = Field(description="how many of the tasks")
    held: int | None = Field(
        description="unfinished tasks they hold now (read for a strategy or the claim limit)"
    )
    task_ids: list[str] = Field(description=f"the first {PLAN_IDS_SHOWN} of those tasks' IDs")


class AssignPlanOut(BaseModel):
    """What POST /api/v1/tasks/assign would do with the same body; nothing is written."""

    tasks: int = Field(description="tasks the body names (a filter: those matching, ≤ 10,000)")
    users: list[PlanShareOut] = Field(
        description="who gets how many (a strategy: every member); empty when no user is set"
    )
    checker: str | None = Field(description="the checker set ('' clears it; null leaves it)")
    group: str | None = Field(description="the group set ('' clears it; null leaves it)")
    over_limit: list[str] = Field(
        description="users taken beyond the claim limit: assign refuses (errid 1008) unless "
        "override_limit is true"
    )

    @classmethod
    def of(cls, plan: AssignPlan) -> AssignPlanOut:
        return cls(
            tasks=len(plan.task_ids),
            users=[
                PlanShareOut(
                    user=user,
                    tasks=len(ids),
                    held=plan.load.get(user),
                    task_ids=ids[:PLAN_IDS_SHOWN],
                )
                for user, ids in plan.shares().items()
            ],
            checker=plan.change.checker,
            group=plan.change.group,
            over_limit=sorted(plan.over_limit),
        )


class UiSettingsOut(BaseModel):
    """The server's settings and limits the web front end works by."""

    finished_statuses: list[str] = Field(description="statuses that count as finished")
    max_claims_per_user: int = Field(description="unfinished tasks a user may hold; 0: no limit")
    max_page: int = Field(description="the most tasks one list page answers")
    max_bulk_assign: int = Field(description="the most tasks one assignment changes")


class ServiceOut(BaseModel):
    url: str
    name: str
    origin: str
    online: bool
    clock_skew: bool
    last_heartbeat: float | None
    last_heartbeat_sender_time: int | None
    registered_at: float
    metadata_error: str
    metadata_synced_at: float | None
    tasks: dict[str, int]

    @classmethod
    def of(cls, service: Service, counts: dict[str, int]) -> ServiceOut:
        return cls(
            url=service.url,
            name=service.name,
            origin=service.origin,
            online=service.online,
            clock_skew=service.clock_skew,
            last_heartbeat=service.last_beat_ts / 1e9 if service.last_beat_ts else None,
            last_heartbeat_sender_time=service.last_beat_time or None,
            registered_at=service.registered_ts / 1e9,
            metadata_error=service.metadata_error,
            metadata_synced_at=service.metadata_synced_at or None,
            tasks=counts,
        )


class ServicesOut(BaseModel):
    services: list[ServiceOut]
    unknown_heartbeats: dict[str, int]


class DeadLetterOut(BaseModel):
    id: str
    topic: str
    body: str = Field(description="the start of the message body (UTF-8, bad bytes replaced)")
    reason: str
    attempts: int
    at: float
    size: int = Field(description="bytes of the whole message body")
    sha256: str = Field(description="hex SHA-256 of the whole message body")
    truncated: bool = Field(description="`body` is only the start of the message")


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    total: int
    next_cursor: str | None


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["annotator", "checker", "manager", "admin"]
    password: str = Field(min_length=8, max_length=1024)
    group: str = ""


class UserPatch(BaseModel):
    role: Literal["annotator", "checker", "manager", "admin"] | None = None
    group: str | None = None
    disabled: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)


def encode_cursor(time: int, task_id: str) -> str:
    return base64.urlsafe_b64encode(f"{time}:{task_id}".encode()).decode().rstrip("=")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CURSOR_TIME = re.compile(r"-?[0-9]{1,19}")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The (time, task ID) a cursor from `encode_cursor` holds; BadRequest for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("cursor is not one this API gave") from None
    time, _, task_id = raw.partition(":")
    # CreateTime is an int64 in both stores: a bigger number cannot be compared with it.
    if not _CURSOR_TIME.fullmatch(time) or not INT64_MIN <= int(time) <= INT64_MAX:
        raise BadRequest("cursor is not one this API gave")
    return int(time), task_id
