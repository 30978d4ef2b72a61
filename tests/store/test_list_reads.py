"""List reads on each backend: every sort pages by cursor, counts, distinct values, history by
time; and on SQLite, each sorted list of the big lists is served by an index."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from taskdash.domain.models import UNCLAIMED, Task, TaskQuery
from taskdash.domain.ports import AssignChange, Store
from taskdash.domain.task_sorts import SORTS, sort_key
from taskdash.store.sqlite.tasks import build_list_sql
from tests.store import test_store_contract as contract
from tests.store.test_store_contract import _open_and_close, ingest, message

store = contract.store  # the contract's fixture: each test on SQLite and on MongoDB

STATUSES = ("", "编辑中", "已完成", "待检查")


async def _fill(store: Store) -> list[Task]:
    """40 tasks with tied CreateTimes, four statuses, some users and groups; all of them."""
    await ingest(store, *(message(i, created=1000 + i // 4) for i in range(40)))
    updates = [
        replace(message(i, created=1000 + i // 4), status=STATUSES[i % 4])
        for i in range(40)
        if i % 4
    ]
    await ingest(store, *updates, kind="update")
    for i in range(0, 40, 3):
        change = AssignChange(user=f"u{i % 5}", group="g1" if i % 2 else "")
        await store.tasks.assign(task_id=f"task-{i:05d}", change=change, actor="m", now=2e9 + i)
    return [t for i in range(40) if (t := await store.tasks.get(f"task-{i:05d}")) is not None]


def _matching(tasks: list[Task], query: TaskQuery) -> list[Task]:
    return [
        t
        for t in tasks
        if all(getattr(t, name) == value for name, value in query.equalities())
        and (query.groups is None or t.group in query.groups)
    ]


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest", "newest"])
async def test_every_sort_pages_by_cursor_in_order_without_repeats(
    store: Store,
    newest_first: bool,
) -> None:
    tasks = await _fill(store)
    for name, fields in SORTS.items():
        for base in (TaskQuery(), TaskQuery(status=UNCLAIMED, user="", groups=("", "g1"))):
            expected = sorted(
                _matching(tasks, base), key=lambda t: sort_key(t, fields), reverse=newest_first
            )
            query = replace(base, sort=fields, newest_first=newest_first, limit=6)
            seen: list[str] = []
            while True:
                page = await store.tasks.find(query)
                seen += [t.id for t in page]
                if len(page) < query.limit:
                    break
                query = replace(query, after=sort_key(page[-1], fields))
            assert seen == [t.id for t in expected], name


async def test_count_and_distinct_match_the_tasks(store: Store) -> None:
    tasks = await _fill(store)
    for query in (
        TaskQuery(),
        TaskQuery(status=UNCLAIMED, user=""),
        TaskQuery(user="u1"),
        TaskQuery(group="g1", status="已完成"),
        TaskQuery(groups=("", "g1"), status=UNCLAIMED),
    ):
        assert await store.tasks.count(query) == len(_matching(tasks, query)), query
        groups = sorted({t.group for t in _matching(tasks, query)} - {""})
        assert await store.tasks.distinct(field="group", query=query, limit=10) == groups
    assert await store.tasks.distinct(field="type", query=TaskQuery(), limit=10) == ["satEdit"]
    assert await store.tasks.distinct(field="project_id", query=TaskQuery(), limit=0) == []


async def test_history_lines_between_two_times_page_in_order(store: Store) -> None:
    await _fill(store)
    lines = await store.tasks.events_between(
        since=0, until=3e9, after=None, task_ids=None, limit=1000
    )
    assert len(lines) > 40
    assert [(e.at, e.seq) for e in lines] == sorted((e.at, e.seq) for e in lines)
    paged = []
    after = None
    while page := await store.tasks.events_between(
        since=0, until=3e9, after=after, task_ids=None, limit=7
    ):
        paged += page
        after = (page[-1].at, page[-1].seq)
    assert [e.seq for e in paged] == [e.seq for e in lines]
    assigned = await store.tasks.events_between(
        since=2e9, until=2e9 + 10, after=None, task_ids=None, limit=100
    )
    assert [e.task_id for e in assigned] == [f"task-{i:05d}" for i in (0, 3, 6, 9)]
    own = await store.tasks.events_between(
        since=0, until=3e9, after=None, task_ids=["task-00003"], limit=100
    )
    assert {e.task_id for e in own} == {"task-00003"} and len(own) >= 2


def _sorted_list_queries() -> list[TaskQuery]:
    """Every sort of all tasks; every sort but UpdatedAt of one status and of the unclaimed
    list (UpdatedAt sorts a status' tasks: an index for it would cost every new task a write)."""
    queries = []
    for name, fields in SORTS.items():
        for newest_first in (False, True):
            for base in (
                TaskQuery(),
                TaskQuery(status="已完成"),
                TaskQuery(
                    status=UNCLAIMED, user="", groups=("", "g"), exclude_origins=("http://a",)
                ),
            ):
                if name == "UpdatedAt" and base.status is not None:
                    continue
                fixed = dict(base.equalities())  # a cursor of this list holds their values
                after = (
                    *(fixed.get(f, "x" if f in ("status", "user") else 5) for f in fields),
                    "id",
                )
                queries.append(replace(base, sort=fields, newest_first=newest_first))
                queries.append(replace(base, sort=fields, newest_first=newest_first, after=after))
    return queries


@pytest.mark.parametrize("query", _sorted_list_queries(), ids=lambda q: repr(q)[9:120])
def test_sorted_lists_are_served_by_an_index_without_sorting(
    tmp_path: Path, query: TaskQuery
) -> None:
    asyncio.run(_open_and_close(tmp_path / "plan.db"))
    sql, params = build_list_sql(query)
    with sqlite3.connect(tmp_path / "plan.db") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert not any(step in ("SCAN tasks", "SCAN TABLE tasks") for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_distinct_values_seek_in_the_fields_index(tmp_path: Path) -> None:
    asyncio.run(_open_and_close(tmp_path / "plan.db"))
    sql = (
        "SELECT project_id FROM tasks INDEXED BY tasks_project WHERE project_id > ?"
        " AND status = ? ORDER BY project_id LIMIT 1"
    )
    with sqlite3.connect(tmp_path / "plan.db") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("", "x"))]
    assert plan == ["SEARCH tasks USING INDEX tasks_project (project_id>?)"], plan
