"""GET /api/v1/tasks sorted, with totals (count=true), and its distinct values, on both stores."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.list_data import every_page, fill
from tests.api.test_rest_api import assert_error
from tests.support import LiveServer

# Each sort's key of a listed task, the task ID last (ties broken by it).
SORT_KEYS = {
    "CreateTime": lambda t: (t["CreateTime"], t["ID"]),
    "UpdatedAt": lambda t: (t["UpdatedAt"], t["ID"]),
    "status": lambda t: (t["Status"], t["CreateTime"], t["ID"]),
    "user": lambda t: (t["User"], t["CreateTime"], t["ID"]),
}


def test_every_sort_pages_by_cursor_to_the_whole_sorted_list(server: LiveServer) -> None:
    fill(server)
    mgr, ann = server.login("mgr"), server.login("ann")
    for client, params in ((mgr, {}), (mgr, {"type": "satEdit"}), (ann, {})):
        everything = every_page(client, limit=1000, **params)
        assert len(everything) > 5
        for sort, key in SORT_KEYS.items():
            for order in ("oldest", "newest"):
                paged = every_page(client, limit=4, sort=sort, order=order, **params)
                expected = sorted(everything, key=key, reverse=order == "newest")
                assert [t["ID"] for t in paged] == [t["ID"] for t in expected], (sort, order)


def test_a_cursor_of_one_sort_is_refused_by_another(server: LiveServer) -> None:
    fill(server)
    mgr = server.login("mgr")
    cursors = {
        sort: mgr.get("/api/v1/tasks", params={"limit": 2, "sort": sort}).json()["next_cursor"]
        for sort in SORT_KEYS
    }
    for sort, cursor in cursors.items():
        for other in SORT_KEYS:
            answer = mgr.get("/api/v1/tasks", params={"limit": 2, "sort": other, "cursor": cursor})
            if other == sort:
                assert answer.status_code == 200, answer.text
            else:
                assert_error(answer, 400, 1000)
    assert_error(mgr.get("/api/v1/tasks", params={"sort": "Reserved"}), 400, 1000)


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "待领取"}, {"type": "vidEdit"}, {"unclaimed": "true"}, {"project": "none"}],
)
def test_count_is_the_number_of_tasks_over_all_pages(
    server: LiveServer, params: dict[str, Any]
) -> None:
    fill(server)
    for name in ("mgr", "ann", "bob", "chk"):
        client = server.login(name)
        listed = every_page(client, limit=1000, **params)
        answer = client.get("/api/v1/tasks", params={**params, "limit": 3, "count": "true"})
        assert answer.json()["total"] == len(listed), (name, params)
        assert "total" not in client.get("/api/v1/tasks", params=params).json()


def test_distinct_values_are_those_of_the_tasks_the_caller_sees(server: LiveServer) -> None:
    fill(server)
    for name in ("mgr", "ann", "bob", "chk"):
        client = server.login(name)
        seen = every_page(client, limit=1000)
        for field, key in (("project", "ProjectID"), ("type", "TaskType"), ("group", "Group")):
            answer = client.get("/api/v1/tasks/distinct", params={"field": field})
            assert answer.status_code == 200, answer.text
            expected = sorted({t[key] for t in seen} - {""})
            assert answer.json() == {"values": expected}, (name, field)
    mgr = server.login("mgr")
    assert_error(mgr.get("/api/v1/tasks/distinct", params={"field": "user"}), 400, 1000)
