"""The orders a task list may be read in, and the keys (values of a task) each order compares."""

from __future__ import annotations

from typing import Any

from taskdash.domain.models import Task, TaskQuery

# Each order is a tuple of stored fields (the same as the Task's attributes); the task ID
# follows them, so that every order is total and a cursor can resume it.
SORTS: dict[str, tuple[str, ...]] = {
    "CreateTime": ("time",),
    "UpdatedAt": ("updated_at",),
    "status": ("status", "time"),
    "user": ("user", "time"),
}
DEFAULT_SORT = "CreateTime"


def sort_name(fields: tuple[str, ...]) -> str:
    """The name under which SORTS lists `fields`."""
    return next(name for name, known in SORTS.items() if known == fields)


def sort_key(task: Task, fields: tuple[str, ...]) -> tuple[Any, ...]:
    """The task's values of an order's `fields`, its ID last (what `TaskQuery.after` holds)."""
    return (*(getattr(task, name) for name in fields), task.id)


def page_order(query: TaskQuery) -> tuple[tuple[str, ...], tuple[Any, ...] | None]:
    """The stored fields a page of `query` is ordered by, the task ID last, and its `after`
    values of them. A first field the query fixes by an equality orders nothing and is left
    out (an index range on it would leave the rest of the order to a sort): when the cursor
    holds another value of it, every task of the query is past the cursor (no bound) or none
    is (the whole comparison is kept, and matches nothing)."""
    keys, after = (*query.sort, "_id"), query.after
    fixed = dict(query.equalities())
    if keys[0] not in fixed:
        return keys, after
    if after is None or after[0] == fixed[keys[0]]:
        return keys[1:], None if after is None else after[1:]
    past = fixed[keys[0]] < after[0] if query.newest_first else fixed[keys[0]] > after[0]
    return (keys[1:], None) if past else (keys, after)
