"""Activity statistics: what a write adds to the rollups, and the numbers read from them.

A history line counts as a claim when it gives the task a holder (`to_user` set and not the
one before), a release or an expiry by its action (for the user who held the task); a status
change by a service counts as a finish when it enters a finished status from another status.
The unclaimed queue is the tasks in 待领取 with no user. Rollups are kept per UTC hour and read
for whole hours; the finished statuses are applied when reading, so a change of the setting
applies to the past as well.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from taskdash.domain.models import CLAIMED, UNCLAIMED, Task, TaskEvent

HOUR_S = 3600
DAY_S = 86400
MESSAGE_ACTIONS = frozenset({"register", "update", "metadata"})
# Upper edges (seconds) of the cycle-time histogram's bins; a last bin (None) holds the longer.
HISTOGRAM_EDGES_S: tuple[float, ...] = (
    60,
    300,
    900,
    1800,
    3600,
    7200,
    14400,
    28800,
    86400,
    172800,
    604800,
)


def hour_of(at: float) -> int:
    """The start of the UTC hour holding `at` (Unix seconds)."""
    return int(at // HOUR_S) * HOUR_S


@dataclass(frozen=True, slots=True)
class ActivityScope:
    """Which rollups to read: whole hours [since, until), optional filters, a person's slice."""

    since: int
    until: int
    finished: tuple[str, ...]
    project: str | None = None
    type: str | None = None
    user: str | None = None  # only this user's claims, finishes, holdings and cycles
    groups: tuple[str, ...] | None = None  # only these groups' queue (created, unclaimed)


@dataclass(slots=True)
class HourCounts:
    created: int = 0
    claimed: int = 0
    finished: int = 0
    queue_delta: int = 0


@dataclass(slots=True)
class HourlyActivity:
    """Counts per hour in the scope, and the queue's length at the scope's end."""

    hours: dict[int, HourCounts]
    queue_at_until: int


@dataclass(slots=True)
class PersonCounts:
    holding: int = 0
    finished: int = 0
    releases: int = 0
    expiries: int = 0


CycleKey = Literal["type", "user", "group"]


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """Finishes of held tasks, and of those with a claim time the seconds claim → finish."""

    finished: int
    count: int
    median_s: float | None
    p90_s: float | None
    histogram: list[tuple[float | None, int]]


def summarise(*, finished: int, sorted_durations: Sequence[float]) -> CycleSummary:
    """The summary of `finished` finishes with these claim → finish seconds (ascending)."""
    return CycleSummary(
        finished=finished,
        count=len(sorted_durations),
        median_s=quantile(sorted_durations, 0.5),
        p90_s=quantile(sorted_durations, 0.9),
        histogram=histogram(sorted_durations),
    )


def summaries_of(rows: Iterable[tuple[str | None, float | None]]) -> dict[str, CycleSummary]:
    """Per key: its finishes and their claim → finish seconds (None: no claim time)."""
    finished: dict[str, int] = {}
    durations: dict[str, list[float]] = {}
    for key, duration in rows:
        if key is None:
            continue
        finished[key] = finished.get(key, 0) + 1
        if duration is not None:
            durations.setdefault(key, []).append(duration)
    return {
        key: summarise(finished=n, sorted_durations=sorted(durations.get(key, [])))
        for key, n in finished.items()
    }


def summaries_by(
    rows: Sequence[tuple[str, str, float | None]],
    keys: Sequence[CycleKey],
    members: Mapping[str, str] | None,
) -> dict[CycleKey, dict[str, CycleSummary]]:
    """`summaries_of` per key, from (type, user, seconds) rows (a user's group from `members`)."""
    groups = members or {}
    pick: dict[CycleKey, Callable[[str, str], str | None]] = {
        "type": lambda task_type, user: task_type,
        "user": lambda task_type, user: user,
        "group": lambda task_type, user: groups.get(user),
    }
    return {
        key: summaries_of((pick[key](task_type, user), d) for task_type, user, d in rows)
        for key in keys
    }


def quantile_ranks(count: int, q: float) -> tuple[int, int, float]:
    """The two ranks (0-based) a q-quantile of `count` values lies between, and how far."""
    position = (count - 1) * q
    low = math.floor(position)
    return low, min(low + 1, count - 1), position - low


@dataclass(slots=True)
class ActivityChanges:
    """What one task write adds to each rollup (keys as the stores keep them)."""

    # (hour, project, type, group, user) -> {created|queue_delta|claimed|released|expired: n}
    hourly: dict[tuple[int, str, str, str, str], dict[str, int]] = field(default_factory=dict)
    # (hour, project, type, user, from_status, to_status) -> n
    transitions: dict[tuple[int, str, str, str, str, str], int] = field(default_factory=dict)
    # (hour, project, type, from_status, to_status) -> n: the same without the holder
    statuses: dict[tuple[int, str, str, str, str], int] = field(default_factory=dict)
    queue: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (project, type, group)
    # (user, project, type, status) -> n
    holding: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    cycles: list[tuple[TaskEvent, Task]] = field(default_factory=list)  # (line, task as written)

    def add_hourly(self, key: tuple[int, str, str, str, str], name: str, n: int) -> None:
        counts = self.hourly.setdefault(key, {})
        counts[name] = counts.get(name, 0) + n

    def without_zeros(self) -> ActivityChanges:
        """The same changes without the keys whose counts came back to zero."""
        self.hourly = {key: counts for key, counts in self.hourly.items() if any(counts.values())}
        self.queue = {key: n for key, n in self.queue.items() if n}
        self.holding = {key: n for key, n in self.holding.items() if n}
        return self


def queued(task: Task) -> bool:
    """Whether the task waits in the unclaimed queue."""
    return task.status == UNCLAIMED and not task.user


def activity_changes(
    before: Task | None, after: Task, lines: Sequence[TaskEvent]
) -> ActivityChanges:
    """What writing `after` over `before` with its history `lines` adds to the rollups."""
    changes = ActivityChanges()
    hour = hour_of(after.updated_at)
    if before is None:
        changes.add_hourly((hour, after.project_id, after.type, after.group, ""), "created", 1)
    for task, sign in ((before, -1), (after, 1)):
        if task is None:
            continue
        if queued(task):
            group_key = (task.project_id, task.type, task.group)
            changes.add_hourly((hour, *group_key, ""), "queue_delta", sign)
            changes.queue[group_key] = changes.queue.get(group_key, 0) + sign
        if task.user:
            holding_key = (task.user, task.project_id, task.type, task.status)
            changes.holding[holding_key] = changes.holding.get(holding_key, 0) + sign
    for line in lines:
        count_line(changes, line, after)
    return changes.without_zeros()


def count_line(changes: ActivityChanges, line: TaskEvent, task: Task) -> None:
    """Add what history `line` counts, its task being `task` as written with it."""
    hour = hour_of(line.at)
    if line.to_user and line.to_user != line.from_user:
        changes.add_hourly((hour, task.project_id, task.type, "", line.to_user), "claimed", 1)
        changes.add_hourly((hour, task.project_id, task.type, task.group, ""), "claimed", 1)
    if line.action in ("release", "expire") and line.from_user:
        name = "released" if line.action == "release" else "expired"
        changes.add_hourly((hour, task.project_id, task.type, "", line.from_user), name, 1)
    if line.action == "create" or line.from_status == line.to_status:
        return
    by_service = line.action in MESSAGE_ACTIONS
    holder = task.user if by_service else line.to_user
    key = (hour, task.project_id, task.type, holder, line.from_status, line.to_status)
    changes.transitions[key] = changes.transitions.get(key, 0) + 1
    status_key = (hour, task.project_id, task.type, line.from_status, line.to_status)
    changes.statuses[status_key] = changes.statuses.get(status_key, 0) + 1
    if by_service and task.user and line.to_status not in (UNCLAIMED, CLAIMED):
        changes.cycles.append((line, task))


def is_finish(from_status: str, to_status: str, finished: Iterable[str]) -> bool:
    """Whether a status change enters a finished status."""
    finished = set(finished)
    return to_status in finished and from_status not in finished


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks; None when empty."""
    if not sorted_values:
        return None
    low, high, fraction = quantile_ranks(len(sorted_values), q)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def histogram(sorted_values: Sequence[float]) -> list[tuple[float | None, int]]:
    """Counts per fixed bin of ascending values: (upper edge, count), an edge's value in its bin."""
    bins: list[tuple[float | None, int]] = []
    below = 0
    for edge in HISTOGRAM_EDGES_S:
        upto = bisect.bisect_right(sorted_values, edge)
        bins.append((edge, upto - below))
        below = upto
    bins.append((None, len(sorted_values) - below))
    return bins
