"""Domain records: tasks, services, users, history, dead letters (no I/O here)."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from taskdash.domain.task_record import COMPAT_TASK_FIELDS, TASK_FIELDS, task_json

UNCLAIMED = "待领取"
CLAIMED = "已领取"
DEFAULT_FINISHED_STATUSES: tuple[str, ...] = ("已完成",)


class Role(enum.IntEnum):
    """Roles in increasing power; each has the rights of the ones before it."""

    ANNOTATOR = 1
    CHECKER = 2
    MANAGER = 3
    ADMIN = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class StatusSource(enum.IntEnum):
    """Who set a task's stored status: a register yields to any update."""

    REGISTER = 0
    UPDATE = 1


def derive_task_id(project_id: str, instance_id: str, task_id: str, task_type: str) -> str:
    """The seed's task ID: md5 of the plain UTF-8 concatenation, lower-case hex."""
    raw = (project_id + instance_id + task_id + task_type).encode("utf-8")
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def url_origin(url: str) -> str:
    """scheme://host[:port] of an absolute URL, lower-cased, default port dropped; '' if none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{scheme}://{host}{suffix}"


def normalise_service_url(url: str) -> str:
    """The key a service is stored under: its origin plus its path without trailing slashes."""
    origin = url_origin(url)
    if not origin:
        return ""
    path = urlsplit(url.strip()).path.rstrip("/")
    return origin + path


@dataclass(slots=True)
class Task:
    """A task as TaskDash stores it (the seed's TaskManagement plus bookkeeping).

    Each field is also named in task_record.TASK_FIELDS, from which rows, documents and JSON
    are derived.
    """

    id: str
    project_id: str
    instance_id: str
    task_id: str
    type: str
    url: str = ""
    status: str = UNCLAIMED
    time: int = 0
    user: str = ""
    checker: str = ""
    group: str = ""
    reserved: str = ""
    edit_info: str = ""
    origin: str = ""
    claimed_at: float | None = None
    updated_at: float = 0.0
    status_ts: int = 0
    status_src: StatusSource = StatusSource.REGISTER
    fields_ts: int = 0
    rev: int = 0
    # Publish time (ns) of the message that last set each optional service-owned field.
    url_ts: int = 0
    edit_info_ts: int = 0
    time_ts: int = 0
    reserved_ts: int = 0

    def to_compat(self) -> dict[str, str | int]:
        """The seed's 12-key JSON shape."""
        return task_json(self, COMPAT_TASK_FIELDS)


@dataclass(slots=True)
class Service:
    """A registered task service and its health."""

    url: str
    name: str = ""
    reserved: str = ""
    origin: str = ""
    registered_ts: int = 0
    last_beat_ts: int = 0
    last_beat_time: int = 0
    beat_reserved: str = ""
    online: bool = True
    clock_skew: bool = False
    health_changed_at: float = 0.0
    metadata_error: str = ""
    metadata_synced_at: float = 0.0
    metadata_failures: int = 0
    metadata_next_at: float = 0.0


@dataclass(slots=True)
class User:
    """An account; `group` is the one group the user works in ('' for none)."""

    name: str
    role: Role
    password_hash: str
    group: str = ""
    disabled: bool = False
    lang: str = "zh"
    created_at: float = 0.0


@dataclass(slots=True)
class Session:
    """A server-side login session; only the hash of its token is stored."""

    token_hash: str
    user: str
    created_at: float
    expires_at: float


@dataclass(slots=True)
class TaskEvent:
    """One line of a task's history: who did what, when, from what to what."""

    task_id: str
    at: float
    actor: str
    action: str
    from_status: str = ""
    to_status: str = ""
    from_user: str = ""
    to_user: str = ""
    detail: str = ""
    seq: int = 0


# A history line's fields as each backend stores them (under the same names) besides `seq`,
# which the backend assigns as it stores the line.
TASK_EVENT_FIELDS: tuple[str, ...] = tuple(
    field.name for field in dataclasses.fields(TaskEvent) if field.name != "seq"
)


MAX_DEAD_LETTER_BODY_BYTES = 64 * 1024
MAX_DEAD_LETTER_REASON_CHARS = 1024


@dataclass(slots=True)
class DeadLetter:
    """A message that could not be applied, kept with the reason.

    Only the start of the body is kept (at most MAX_DEAD_LETTER_BODY_BYTES), with the whole
    body's size and SHA-256: built from a whole body, these are measured from it.
    """

    topic: str
    body: bytes
    reason: str
    attempts: int
    at: float
    key: str = ""
    id: str = ""
    size: int = -1  # bytes of the whole body; -1: len(body)
    sha256: str = ""  # hex SHA-256 of the whole body; "": of body

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.body)
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.body).hexdigest()
        self.body = bytes(self.body[:MAX_DEAD_LETTER_BODY_BYTES])
        self.reason = clip_reason(self.reason)

    @property
    def truncated(self) -> bool:
        """Whether `body` holds only the start of the message."""
        return self.size > len(self.body)


def clip_reason(reason: str) -> str:
    """A dead letter's reason, at most MAX_DEAD_LETTER_REASON_CHARS (an ellipsis marks a cut)."""
    if len(reason) <= MAX_DEAD_LETTER_REASON_CHARS:
        return reason
    return reason[: MAX_DEAD_LETTER_REASON_CHARS - 1] + "…"


@dataclass(slots=True)
class TaskQuery:
    """Filters and page of a task list; every combination is served by an index."""

    # A filter named like a Task field (status, user, checker, group, type, project_id)
    # matches that field exactly: see equalities().
    status: str | None = None
    user: str | None = None
    checker: str | None = None
    group: str | None = None
    groups: tuple[str, ...] | None = None
    type: str | None = None
    project_id: str | None = None
    exclude_origins: tuple[str, ...] = ()
    origins: tuple[str, ...] | None = None  # only tasks of these services (None: any)
    claimed_before: float | None = None  # only tasks held (已领取) since before this time
    newest_first: bool = False
    limit: int = 50
    after: tuple[int, str] | None = None
    offset: int = 0

    def equalities(self) -> list[tuple[str, str]]:
        """(stored name, value) of each filter set that matches a task field exactly."""
        return [
            (field.stored, value)
            for field in _QUERY_EQUALITY_FIELDS
            if (value := getattr(self, field.attr)) is not None
        ]


_QUERY_EQUALITY_FIELDS = tuple(
    field
    for field in TASK_FIELDS
    if field.attr in {query_field.name for query_field in dataclasses.fields(TaskQuery)}
)
