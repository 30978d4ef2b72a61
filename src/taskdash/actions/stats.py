"""Overview statistics: what managers see of all tasks, and each other person's own slice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from taskdash.domain.models import UNCLAIMED, Role, User
from taskdash.domain.ports import CountScope, TaskCount, TaskCounts, UnclaimedKey


class StatsStore(Protocol):
    """What the statistics use of the store."""

    @property
    def task_counts(self) -> TaskCounts: ...


@dataclass(slots=True)
class ProjectStats:
    """The tasks of one (project, type): by status, and the unclaimed queue."""

    project: str
    type: str
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    unclaimed: int = 0
    unclaimed_oldest_at: float | None = None


def count_scope(user: User) -> CountScope:
    """What `user`'s lists show (as tasks.can_see): everything, or their own slice."""
    if user.role >= Role.MANAGER:
        return CountScope()
    return CountScope(
        everyone=False,
        user=user.name,
        checker=user.role >= Role.CHECKER,
        groups=tuple(sorted({"", user.group})),
    )


def _is_unclaimed(row: TaskCount, scope: CountScope) -> bool:
    """In the unclaimed queue as `scope` sees it (a slice: only the groups it may claim in)."""
    if row.status != UNCLAIMED or row.user:
        return False
    return scope.everyone or row.group in scope.groups


def project_stats(
    rows: Iterable[TaskCount], *, scope: CountScope, oldest: dict[UnclaimedKey, int]
) -> list[ProjectStats]:
    """Counts summed per (project, type), sorted by project then type."""
    found: dict[tuple[str, str], ProjectStats] = {}
    for row in rows:
        stats = found.setdefault((row.project_id, row.type), ProjectStats(row.project_id, row.type))
        stats.total += row.n
        stats.by_status[row.status] = stats.by_status.get(row.status, 0) + row.n
        if _is_unclaimed(row, scope):
            stats.unclaimed += row.n
            at = oldest.get((row.project_id, row.type, row.group))
            if at is not None:
                known = stats.unclaimed_oldest_at
                stats.unclaimed_oldest_at = float(at if known is None else min(known, at))
    return [found[key] for key in sorted(found) if found[key].total]


def unclaimed_keys(rows: Iterable[TaskCount], scope: CountScope) -> list[UnclaimedKey]:
    """The (project, type, group) whose oldest unclaimed task the answer needs."""
    keys = {(r.project_id, r.type, r.group) for r in rows if r.n and _is_unclaimed(r, scope)}
    return sorted(keys)


async def projects(
    *, store: StatsStore, user: User, project: str | None, task_type: str | None
) -> list[ProjectStats]:
    """Per project and type: tasks by status and the unclaimed queue, as `user` may see them."""
    scope = count_scope(user)
    rows = await store.task_counts.counts(scope=scope, project=project, task_type=task_type)
    oldest = await store.task_counts.oldest_unclaimed(keys=unclaimed_keys(rows, scope))
    return project_stats(rows, scope=scope, oldest=oldest)
