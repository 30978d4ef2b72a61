"""What the task lists show besides a page: how many tasks match, and filter suggestions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from taskdash.actions.tasks import ServiceReadStore, list_scopes
from taskdash.domain.models import TaskQuery, User
from taskdash.domain.ports import TaskListReads, TaskReads

MAX_DISTINCT = 1000
# The API's names of the fields suggestions are given for, and each one's stored name.
DISTINCT_FIELDS = {"project": "project_id", "type": "type", "group": "group"}


class ListTotalsTasks(TaskReads, TaskListReads, Protocol):
    """The parts of the tasks the totals use."""


class ListTotalsStore(ServiceReadStore, Protocol):
    """What the totals use of the store (a whole Store is one)."""

    @property
    def tasks(self) -> ListTotalsTasks: ...


_EQUALITIES = ("status", "user", "checker", "group", "type", "project_id")


def intersect(a: TaskQuery, b: TaskQuery) -> TaskQuery | None:
    """The query matching what both match (None when nothing can), page fields of `a`."""
    values = {}
    for name in _EQUALITIES:
        mine, theirs = getattr(a, name), getattr(b, name)
        if mine is not None and theirs is not None and mine != theirs:
            return None
        values[name] = mine if mine is not None else theirs
    groups = _both(a.groups, b.groups)
    origins = _both(a.origins, b.origins)
    if groups == () or origins == ():
        return None
    exclude = tuple(sorted({*a.exclude_origins, *b.exclude_origins}))
    return replace(a, **values, groups=groups, origins=origins, exclude_origins=exclude)


def _both(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if a is None or b is None:
        return a if b is None else b
    return tuple(sorted(set(a) & set(b)))


async def count_union(*, store: ListTotalsStore, scopes: Sequence[TaskQuery]) -> int:
    """How many tasks the union of `scopes` holds: by inclusion and exclusion, so each count
    is one index-served query (there are at most three scopes, so at most seven counts)."""
    total = 0
    for size in range(1, len(scopes) + 1):
        for chosen in itertools.combinations(scopes, size):
            common: TaskQuery | None = chosen[0]
            for scope in chosen[1:]:
                common = intersect(common, scope) if common is not None else None
            if common is not None:
                total += (-1) ** (size + 1) * await store.tasks.count(common)
    return total


async def count_visible(
    *, store: ListTotalsStore, user: User, query: TaskQuery, unclaimed: bool, online: bool | None
) -> int:
    """How many tasks list_page lists for the same arguments, over all its pages."""
    scopes = await list_scopes(
        store=store, user=user, query=query, unclaimed=unclaimed, online=online
    )
    return await count_union(store=store, scopes=scopes.queries)


async def distinct_values(
    *, store: ListTotalsStore, user: User, field: str, limit: int = MAX_DISTINCT
) -> list[str]:
    """The values of `field` (an API name of DISTINCT_FIELDS) among the tasks `user` may see,
    sorted, the first `limit`."""
    scopes = await list_scopes(
        store=store, user=user, query=TaskQuery(), unclaimed=False, online=None
    )
    values: set[str] = set()
    for scope in scopes.queries:
        values.update(
            await store.tasks.distinct(field=DISTINCT_FIELDS[field], query=scope, limit=limit)
        )
    return sorted(values)[:limit]
