"""The store port: what every backend (SQLite, MongoDB) implements, checked by one contract suite.

Every state change that races between instances is one atomic conditional write in the backend.

The port comes in narrow parts, so that a new backend or a test fake implements only what its
consumer calls: tasks are `TaskWrites` (messages), `TaskClaims` (claim, release, assign),
`TaskReads` (lookups and lists) and `TaskHistory`; services `ServiceWrites` and `ServiceReads`;
accounts `UserRepo`, `SessionRepo` and `LoginAttemptRepo`; coordination `LeaseRepo` and
`CursorRepo`; dead letters `DeadLetterWrites` and `DeadLetterReads`. A backend keeps one object
per kind of record, `store.tasks`, `store.services`, `store.accounts`, `store.dead_letters`,
`store.coordination`, `store.metadata` (and `store.contents` for copies), each implementing the
union of its kind's parts (`TaskRepo`, `AccountRepo`, …): the parts of one kind share a table
and its rules, and `store.tasks.claim(...)` reads as what it does. A consumer types its `store`
with a small protocol of its own naming only the attributes it reads, each as the narrowest
part it calls (the sweeps' `tasks` is a `TaskClaims`); a whole `Store` satisfies it, because a
read-only attribute may be narrower in a protocol than in the object given. A method that takes
more than one argument takes them all by keyword: `history(task_id=..., limit=...)`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, runtime_checkable

from taskdash.domain.activity import (
    ActivityScope,
    CycleKey,
    CycleSummary,
    HourlyActivity,
    PersonCounts,
)
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


# Service health over time and stuck work (issue 15, items 5 and 6).


@dataclass(frozen=True, slots=True)
class HealthTransition:
    """A service becoming online (registration, a heartbeat after silence) or offline (sweep)."""

    at: float
    online: bool


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """A service with its transitions in a period and its metadata-sync error record."""

    service: Service
    # The last transition at or before the period's start (if kept), then each one in it.
    transitions: tuple[HealthTransition, ...]
    metadata_errors: int  # failed metadata pulls since the service registered
    last_metadata_error: str
    last_metadata_error_at: float | None


@runtime_checkable
class ServiceHealthHistory(Protocol):
    """Services' online/offline transitions, kept for a bounded time."""

    async def health_history(self, *, since: float, until: float) -> list[ServiceHealth]:
        """Every service with its last transition at or before `since` and those up to `until`."""
        ...

    async def prune_transitions(self, *, before: float) -> int:
        """Delete transitions older than `before`, keeping each service's latest one."""
        ...


@runtime_checkable
class StuckTaskCounts(Protocol):
    """Counts of held and orphaned tasks, each served by an index."""

    async def count_claimed_before(self, *, before: float) -> int:
        """Tasks held (已领取) whose claim is older than `before`."""
        ...

    async def count_of_origins(self, *, origins: Sequence[str]) -> int:
        """Tasks whose service origin is one of `origins`."""
        ...


@runtime_checkable
class DeadLetterCounts(Protocol):
    """How many dead letters arrived in a period."""

    async def count_since(self, *, since: float) -> int: ...


@runtime_checkable
class TaskWrites(Protocol):
    """Task messages (register, update, metadata) merged into tasks."""

    async def apply_messages(self, *, envelopes: Sequence[TaskMessageEnvelope], now: float) -> int:
        """Merge the messages in one durable write; returns how many tasks changed."""
        ...


@runtime_checkable
class TaskReads(Protocol):
    """Tasks as they are: one, a page of a query, counts per service origin."""

    async def get(self, task_id: str) -> Task | None: ...

    async def find(self, query: TaskQuery) -> list[Task]: ...

    async def count_by_origin_status(self) -> dict[str, dict[str, int]]:
        """Per service origin: how many tasks are in each status."""
        ...


@runtime_checkable
class TaskClaims(Protocol):
    """Who holds a task: claims, releases, assignments, expiry, and what each user holds."""

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


@runtime_checkable
class TaskHistory(Protocol):
    """Every change to every task, in the order it was written."""

    async def history(self, *, task_id: str, limit: int) -> list[TaskEvent]: ...

    async def events_after(self, *, seq: int, limit: int) -> list[TaskEvent]:
        """History of every task in the order it was written, after position `seq`."""
        ...

    async def last_event_seq(self) -> int: ...


@runtime_checkable
class TaskRepo(TaskWrites, TaskReads, TaskClaims, TaskHistory, StuckTaskCounts, Protocol):
    """Every part of the tasks, as a backend's `store.tasks` implements them."""


@runtime_checkable
class ServiceWrites(Protocol):
    """Registrations, heartbeats, health and metadata-sync state of task services."""

    async def register(self, *, reg: ServiceRegistration, ts_ns: int, now: float) -> Service: ...

    async def record_heartbeat(
        self, *, hb: Heartbeat, ts_ns: int, now: float, timeout_s: float, max_skew_s: float
    ) -> Service | None:
        """Apply a heartbeat to the service it belongs to; None for an unknown source."""
        ...

    async def sweep_health(self, *, now: float, timeout_s: float) -> list[Service]:
        """Mark services whose last beat is too old offline; returns those that changed."""
        ...

    async def record_metadata_sync(
        self, *, url: str, error: str, now: float, failures: int, next_at: float
    ) -> None: ...


@runtime_checkable
class ServiceReads(Protocol):
    """The registered services and heartbeats from unknown sources."""

    async def all(self) -> list[Service]: ...

    async def unknown_heartbeats(self) -> dict[str, int]: ...


@runtime_checkable
class ServiceRepo(ServiceWrites, ServiceReads, ServiceHealthHistory, Protocol):
    """Every part of the services, as a backend's `store.services` implements them."""


@dataclass(frozen=True, slots=True)
class AttemptCount:
    """A login-attempt counter after an increment: its count and when its window started."""

    count: int
    window_start: float


@runtime_checkable
class UserRepo(Protocol):
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
        *,
        name: str,
        password_hash: str | None = None,
        role: int | None = None,
        group: str | None = None,
        disabled: bool | None = None,
        lang: str | None = None,
    ) -> User: ...


@runtime_checkable
class SessionRepo(Protocol):
    """Sign-in sessions, kept by the hash of their token."""

    async def add_session(self, session: Session) -> None: ...

    async def get_session(self, *, token_hash: str, now: float) -> Session | None: ...

    async def session_user(self, *, token_hash: str, now: float) -> User | None:
        """The user of a live session, in one read (every API request asks this)."""
        ...

    async def delete_session(self, token_hash: str) -> None: ...

    async def delete_user_sessions(self, user: str) -> None: ...

    async def purge_sessions(self, *, now: float) -> int: ...


@runtime_checkable
class LoginAttemptRepo(Protocol):
    """Login-attempt counters per key (user and address), each in a time window."""

    async def count_login_attempt(self, *, key: str, now: float, window_s: float) -> AttemptCount:
        """Add one to `key`'s count in one atomic write (a lapsed window restarts at 1)."""
        ...

    async def uncount_login_attempt(self, *, key: str, now: float, window_s: float) -> None:
        """Take back one attempt counted in the current window (it succeeded or was refused)."""
        ...

    async def login_failures(self, *, key: str, now: float, window_s: float) -> int: ...

    async def purge_login_failures(self, *, before: float) -> int:
        """Delete the counters whose window started at or before `before`."""
        ...


@runtime_checkable
class AccountRepo(UserRepo, SessionRepo, LoginAttemptRepo, Protocol):
    """Every part of the accounts, as a backend's `store.accounts` implements them."""


@runtime_checkable
class MetadataRepo(Protocol):
    async def save(self, *, records: Sequence[TaskMessage], service: str, now: float) -> None:
        """Keep the latest metadata record of each task as the service reported it."""
        ...

    async def count(self, *, service: str) -> int: ...


@runtime_checkable
class LeaseRepo(Protocol):
    """Leases that let several instances share work without doing it twice."""

    async def acquire_lease(self, *, name: str, holder: str, now: float, ttl_s: float) -> bool:
        """Take or renew lease `name` for `holder` unless someone else holds it unexpired."""
        ...

    async def release_lease(self, *, name: str, holder: str) -> None: ...


@runtime_checkable
class CursorRepo(Protocol):
    """Shared cursors, each moved by one compare-and-set."""

    async def get_cursor(self, name: str) -> int: ...

    async def advance_cursor(self, *, name: str, expected: int, to: int) -> bool:
        """Move cursor `name` from `expected` to `to`; False if it had moved meanwhile."""
        ...


@runtime_checkable
class CoordinationRepo(LeaseRepo, CursorRepo, Protocol):
    """Leases and cursors, as a backend's `store.coordination` implements them."""


@runtime_checkable
class DeadLetterWrites(Protocol):
    """Messages that could not be applied, kept with the reason."""

    async def add(self, letters: Sequence[DeadLetter]) -> None: ...


@runtime_checkable
class DeadLetterReads(Protocol):
    """The dead letters, newest first, page by page."""

    async def recent(self, *, limit: int, before_id: str | None) -> list[DeadLetter]: ...

    async def count(self) -> int: ...


@runtime_checkable
class DeadLetterRepo(DeadLetterWrites, DeadLetterReads, DeadLetterCounts, Protocol):
    """Dead letters, as a backend's `store.dead_letters` implements them."""


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


@runtime_checkable
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


@dataclass(frozen=True, slots=True)
class CountScope:
    """Which tasks a count covers: every task, or one person's slice of them.

    A slice is what that person's lists show: the tasks of `user`, those `user` checks
    (`checker`), and the unclaimed ones (no user, status UNCLAIMED) of `groups`.
    """

    everyone: bool = True
    user: str = ""
    checker: bool = False
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskCount:
    """How many tasks share one (project, type, status, group, user, checker)."""

    project_id: str
    type: str
    status: str
    group: str
    user: str
    checker: str
    n: int


UnclaimedKey = tuple[str, str, str]  # (project_id, type, group)


class TaskCounts(Protocol):
    """Task counts kept in the same write as the tasks, and the recount they must equal."""

    async def counts(
        self, *, scope: CountScope, project: str | None, task_type: str | None
    ) -> list[TaskCount]:
        """The kept counts in `scope` (none of 0), without reading the tasks."""
        ...

    async def recount(
        self, *, scope: CountScope, project: str | None, task_type: str | None
    ) -> list[TaskCount]:
        """The same counts from a full aggregation over the tasks (the reference)."""
        ...

    async def oldest_unclaimed(self, *, keys: Sequence[UnclaimedKey]) -> dict[UnclaimedKey, int]:
        """The CreateTime of the oldest unclaimed task of each key that has one (a seek each)."""
        ...


@runtime_checkable
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

    @property
    def task_counts(self) -> TaskCounts: ...

    async def ping(self) -> None:
        """Raise StoreReadError when the store cannot answer."""
        ...

    async def aclose(self) -> None: ...


class ActivityStats(Protocol):
    """Rollups of the task history (domain/activity.py): throughput, people, cycle times."""

    async def hourly_activity(self, *, scope: ActivityScope) -> HourlyActivity:
        """Created, claimed, finished and the queue's change per hour of the scope."""
        ...

    async def people_activity(self, *, scope: ActivityScope) -> dict[str, PersonCounts]:
        """Per user: holding now (unfinished), releases and expiries in the scope."""
        ...

    async def cycle_summaries(
        self,
        *,
        scope: ActivityScope,
        keys: Sequence[CycleKey],
        members: Mapping[str, str] | None = None,
    ) -> dict[CycleKey, dict[str, CycleSummary]]:
        """Finishes of held tasks in the scope and their claim → finish times, for each key:
        per task type, per holder, or per group (`members`: user → group; others left out)."""
        ...
