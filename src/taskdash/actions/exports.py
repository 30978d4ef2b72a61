"""CSV exports of the task list and of history, read from the store page by page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from taskdash.actions.list_totals import ListTotalsStore
from taskdash.actions.tasks import TaskActionStore, find_in_scopes, list_scopes
from taskdash.domain.errors import Forbidden
from taskdash.domain.models import Role, Task, TaskEvent, TaskQuery, User
from taskdash.domain.ports import TaskListReads, TaskReads
from taskdash.domain.task_record import API_TASK_FIELDS, COMPAT_TASK_FIELDS
from taskdash.domain.task_sorts import sort_key

EXPORT_PAGE_SIZE = 1000  # rows read from the store per page (and sent per chunk)
MAX_OWN_TASKS = 10_000  # tasks an annotator's or checker's history export may cover
BOM = "\ufeff"  # so that spreadsheet programs read the file as UTF-8
# A cell starting with one of these is a formula to a spreadsheet program (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The seed's twelve keys first, then the rest of the API's task, then ServiceOnline.
TASK_COLUMNS: tuple[str, ...] = (
    *(field.json for field in COMPAT_TASK_FIELDS),
    *(field.json for field in API_TASK_FIELDS if not field.seed),
    "ServiceOnline",
)
_TASK_ATTRS = tuple(
    field.attr for field in (*COMPAT_TASK_FIELDS, *(f for f in API_TASK_FIELDS if not f.seed))
)
HISTORY_COLUMNS: tuple[str, ...] = (
    "seq",
    "at",
    "at_utc",
    "task_id",
    "actor",
    "action",
    "from_status",
    "to_status",
    "from_user",
    "to_user",
    "detail",
)


class ExportTasks(TaskReads, TaskListReads, Protocol):
    """The parts of the tasks the exports read."""


class ExportStore(ListTotalsStore, Protocol):
    """What the exports use of the store (a whole Store is one)."""

    @property
    def tasks(self) -> ExportTasks: ...


def cell(value: Any) -> str:
    """A value as a CSV cell: text guarded against formulas, numbers as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as RFC 4180 CSV: CRLF line ends, fields quoted when they hold , " CR or LF."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()


def task_row(task: Task, offline: tuple[str, ...]) -> list[Any]:
    online = not (task.origin and task.origin in offline)
    return [*(getattr(task, attr) for attr in _TASK_ATTRS), online]


def event_row(event: TaskEvent) -> list[Any]:
    at_utc = datetime.fromtimestamp(event.at, UTC).isoformat(timespec="milliseconds")
    return [
        event.seq,
        event.at,
        at_utc,
        event.task_id,
        event.actor,
        event.action,
        event.from_status,
        event.to_status,
        event.from_user,
        event.to_user,
        event.detail,
    ]


@dataclass(frozen=True, slots=True)
class Export:
    """A CSV file to send: its name and its text, chunk by chunk (the BOM and header first)."""

    filename: str
    chunks: AsyncIterator[str]


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")


async def export_tasks(
    *,
    store: TaskActionStore,
    user: User,
    query: TaskQuery,
    unclaimed: bool,
    online: bool | None,
    now: float,
    page_size: int,
) -> Export:
    """Every task list_page lists for these arguments, in its order, as CSV."""
    scopes = await list_scopes(
        store=store, user=user, query=query, unclaimed=unclaimed, online=online
    )

    async def chunks() -> AsyncIterator[str]:
        yield BOM + csv_text([TASK_COLUMNS])
        page_query = replace(query, limit=page_size, offset=0, after=None)
        while True:
            queries = [
                replace(scope, limit=page_size, offset=0, after=page_query.after)
                for scope in scopes.queries
            ]
            page = await find_in_scopes(store=store, scopes=queries, query=page_query)
            yield csv_text(task_row(task, scopes.offline) for task in page)
            if len(page) < page_size:
                return
            page_query = replace(page_query, after=sort_key(page[-1], query.sort))

    return Export(filename=f"tasks-{_stamp(now)}.csv", chunks=chunks())


async def own_task_ids(*, store: ExportStore, user: User) -> list[str] | None:
    """The tasks whose history `user` may export: every task (None) for managers, else those
    they hold or check (Forbidden beyond MAX_OWN_TASKS)."""
    if user.role >= Role.MANAGER:
        return None
    scopes = [TaskQuery(user=user.name)]
    if user.role >= Role.CHECKER:
        scopes.append(TaskQuery(checker=user.name))
    ids: set[str] = set()
    for scope in scopes:
        page = replace(scope, limit=EXPORT_PAGE_SIZE)
        while True:
            tasks = await store.tasks.find(page)
            ids.update(task.id for task in tasks)
            if len(ids) > MAX_OWN_TASKS:
                raise Forbidden(f"more than {MAX_OWN_TASKS} tasks: ask a manager for this export")
            if len(tasks) < page.limit:
                break
            page = replace(page, after=sort_key(tasks[-1], page.sort))
    return sorted(ids)


async def export_history(
    *,
    store: ExportStore,
    user: User,
    since: float,
    until: float,
    now: float,
    page_size: int,
) -> Export:
    """History lines with `since` <= at < `until` that `user` may see, by time, as CSV."""
    task_ids = await own_task_ids(store=store, user=user)

    async def chunks() -> AsyncIterator[str]:
        yield BOM + csv_text([HISTORY_COLUMNS])
        after: tuple[float, int] | None = None
        while True:
            events = await store.tasks.events_between(
                since=since, until=until, after=after, task_ids=task_ids, limit=page_size
            )
            yield csv_text(event_row(event) for event in events)
            if len(events) < page_size:
                return
            after = (events[-1].at, events[-1].seq)

    return Export(filename=f"history-{_stamp(now)}.csv", chunks=chunks())
