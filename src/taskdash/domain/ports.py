"""The store port: what every backend (SQLite, MongoDB) implements, checked by one contract suite.

Every state change that races between instances is one atomic conditional write in the backend.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from taskdash.domain.events import Heartbeat, ServiceRegistration, TaskMessage
from taskdash.domain.models import (
    DeadLetter,
    Service,
    Session,
    Task,
    TaskEvent,
    TaskQuery,
    User,
)


@dataclass(frozen=True, slots=True)
class TaskMessageEnvelope:
    """A parsed task message with its publish timestamp (ns) and where it came from."""

    kind: Literal["register", "update", "metadata"]
    message: TaskMessage
    ts_ns: int


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """What a claim checks besides the task itself."""

    user: str
    user_group: str
    max_claims: int
    finished_statuses: tuple[str, ...]
    offline_origins: tuple[str, ...]
    actor: str = ""  # who asked, when a manager claims for `user`
    sees_all: bool = False  # the asker sees every task (a manager): refusals say why


@dataclass(frozen=True, slots=True)
class AssignChange:
    """Fields an assignment sets; None leaves a field as it is, '' clears it."""

    user: str | None = None
    checker: str | None = None
    group: str | None = None
    over_limit: bool = False  # a manager chose to go beyond the user's claim limit


class TaskRepo(Protocol):
    async def apply_messages(self, envelopes: Sequence[TaskMessageEnvelope], *, now: float) -> int:
        """Merge the messages in one durable write; returns how many tasks changed."""
        ...

    async def get(self, task_id: str) -> Task | None: ...

    async def find(self, query: TaskQuery) -> list[Task]: ...

    async def claim(self, *, task_id: str, rules: ClaimRules, now: float) -> Task:
        """Raises TaskNotFound, TaskNotClaimable or ClaimLimitReached."""
        ...

    async def claim_next(
        self,
        *,
        rules: ClaimRules,
        task_type: str | None,
        project_id: str | None,
        now: float,
    ) -> Task:
        """Claim the oldest claimable task; raises NothingToClaim or ClaimLimitReached."""
        ...

    async def release(
        self, *, task_id: str, holder: str | None, actor: str, action: str, now: float
    ) -> Task:
        """Return a task to 待领取; with `holder` only if that user holds it while 已领取."""
        ...

    async def assign(
        self, *, task_id: str, change: AssignChange, actor: str, now: float, detail: str = ""
    ) -> Task:
        """Apply `change` (rules.assigned) with `detail` as its history line's detail."""
        ...

    async def expire_claims(self, *, claimed_before: float, now: float, limit: int) -> list[Task]:
        """Release claims older than `claimed_before`, each with its own conditional write."""
        ...

    async def count_unfinished(
        self, *, users: Sequence[str], finished: Sequence[str]
    ) -> dict[str, int]: ...

    async def count_by_origin_status(self) -> dict[str, dict[str, int]]:
        """Per service origin: how many tasks are in each status."""
        ...

    async def history(self, task_id: str, *, limit: int) -> list[TaskEvent]: ...

    async def events_after(self, seq: int, *, limit: int) -> list[TaskEvent]:
        """History of every task in the order it was written, after position `seq`."""
        ...

    async def last_event_seq(self) -> int: ...


class ServiceRepo(Protocol):
    async def register(self, reg: ServiceRegistration, *, ts_ns: int, now: float) -> Service: ...

    async def record_heartbeat(
        self, hb: Heartbeat, *, ts_ns: int, now: float, timeout_s: float, max_skew_s: float
    ) -> Service | None:
        """Apply a heartbeat to the service it belongs to; None for an unknown source."""
        ...

    async def all(self) -> list[Service]: ...

    async def sweep_health(self, *, now: float, timeout_s: float) -> list[Service]:
        """Mark services whose last beat is too old offline; returns those that changed."""
        ...

    async def unknown_heartbeats(self) -> dict[str, int]: ...

    async def record_metadata_sync(
        self, url: str, *, error: str, now: float, failures: int, next_at: float
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class AttemptCount:
    """A login-attempt counter after an increment: its count and when its window started."""

    count: int
    window_start: float


class AccountRepo(Protocol):
    """Users are unique by `user_name_key` of their name; lookups by name ignore case."""

    async def add_user(self, user: User) -> None:
        """Raises BadRequest when the name, or one differing only in case, is taken."""
        ...

    async def get_user(self, name: str) -> User | None:
        """The user of exactly this name, else the one whose name has the same key."""
        ...

    async def list_users(self) -> list[User]: ...

    async def update_user(
        self,
        name: str,
        *,
        password_hash: str | None = None,
        role: int | None = None,
        group: str | None = None,
        disabled: bool | None = None,
        lang: str | None = None,
    ) -> User: ...

    async def add_session(self, session: Session) -> None: ...

    async def get_session(self, token_hash: str, *, now: float) -> Session | None: ...

    async def session_user(self, token_hash: str, *, now: float) -> User | None:
        """The user of a live session, in one read (every API request asks this)."""
        ...

    async def delete_session(self, token_hash: str) -> None: ...

    async def delete_user_sessions(self, user: str) -> None: ...

    async def purge_sessions(self, *, now: float) -> int: ...

    async def count_login_attempt(self, key: str, *, now: float, window_s: float) -> AttemptCount:
        """Add one to `key`'s count in one atomic write (a lapsed window restarts at 1)."""
        ...

    async def uncount_login_attempt(self, key: str, *, now: float, window_s: float) -> None:
        """Take back one attempt counted in the current window (it succeeded or was refused)."""
        ...

    async def login_failures(self, key: str, *, now: float, window_s: float) -> int: ...

    async def purge_login_failures(self, *, before: float) -> int:
        """Delete the counters whose window started at or before `before`."""
        ...


class MetadataRepo(Protocol):
    async def save(self, records: Sequence[TaskMessage], *, service: str, now: float) -> None:
        """Keep the latest metadata record of each task as the service reported it."""
        ...

    async def count(self, *, service: str) -> int: ...


class CoordinationRepo(Protocol):
    """Leases and cursors that let several instances share work without doing it twice."""

    async def acquire_lease(self, name: str, *, holder: str, now: float, ttl_s: float) -> bool:
        """Take or renew lease `name` for `holder` unless someone else holds it unexpired."""
        ...

    async def release_lease(self, name: str, *, holder: str) -> None: ...

    async def get_cursor(self, name: str) -> int: ...

    async def advance_cursor(self, name: str, *, expected: int, to: int) -> bool:
        """Move cursor `name` from `expected` to `to`; False if it had moved meanwhile."""
        ...


class DeadLetterRepo(Protocol):
    async def add(self, letters: Sequence[DeadLetter]) -> None: ...

    async def recent(self, *, limit: int, before_id: str | None) -> list[DeadLetter]: ...

    async def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class HeartbeatRecord:
    """The latest heartbeat from one source URL, as `heartbeats` keeps it."""

    url: str
    time: int
    reserved: str
    ts: int
    service: str
    count: int


@dataclass(frozen=True, slots=True)
class MetadataRecord:
    """One row of `task_metadata`: a task as its service last reported it."""

    id: str
    project_id: str
    instance_id: str
    task_id: str
    type: str
    url: str
    status: str
    time: int
    reserved: str
    service: str
    fetched_at: float


@dataclass(frozen=True, slots=True)
class CursorRecord:
    """A shared cursor (e.g. how far task history was published to NSQ)."""

    name: str
    value: int


R = TypeVar("R")


class RecordTable(Protocol[R]):
    """One collection read whole, page by page, and written back keeping every record's key."""

    async def count(self) -> int:
        """How many records it holds (an estimate on MongoDB)."""
        ...

    def pages(self, *, size: int, in_key_order: bool) -> AsyncGenerator[list[R], None]:
        """Every record in pages of `size`, ascending by key if `in_key_order` (else any order)."""
        ...

    async def put(self, records: Sequence[R]) -> int:
        """Insert or replace each record by its key; returns how many were new or different."""
        ...


class StoreContents(Protocol):
    """Everything a store holds but leases and login throttling, for `taskdash store copy`.

    Keys (the order of `pages(in_key_order=True)`): tasks by id, services and heartbeats by URL,
    task_metadata by id, users by name, sessions by token hash, task_events by seq, dead_letters
    by (at, key), cursors by name. Strings compare by code point on every backend.
    """

    @property
    def tasks(self) -> RecordTable[Task]: ...

    @property
    def services(self) -> RecordTable[Service]: ...

    @property
    def heartbeats(self) -> RecordTable[HeartbeatRecord]: ...

    @property
    def task_metadata(self) -> RecordTable[MetadataRecord]: ...

    @property
    def users(self) -> RecordTable[User]: ...

    @property
    def sessions(self) -> RecordTable[Session]: ...

    @property
    def task_events(self) -> RecordTable[TaskEvent]: ...

    @property
    def dead_letters(self) -> RecordTable[DeadLetter]: ...

    @property
    def cursors(self) -> RecordTable[CursorRecord]: ...


class Store(Protocol):
    """A store backend; an async context manager opened once by the app's lifespan."""

    @property
    def tasks(self) -> TaskRepo: ...

    @property
    def services(self) -> ServiceRepo: ...

    @property
    def accounts(self) -> AccountRepo: ...

    @property
    def dead_letters(self) -> DeadLetterRepo: ...

    @property
    def coordination(self) -> CoordinationRepo: ...

    @property
    def metadata(self) -> MetadataRepo: ...

    @property
    def contents(self) -> StoreContents: ...

    @property
    def url(self) -> str: ...

    async def ping(self) -> None:
        """Raise StoreReadError when the store cannot answer."""
        ...

    async def aclose(self) -> None: ...
