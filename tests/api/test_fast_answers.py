"""Hot answers built by hand (web/task_json.py, web/fast_routes.py) are FastAPI's, byte for byte."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from taskdash.domain.models import Task
from taskdash.web import task_json
from taskdash.web.routes.compat import compat_list
from taskdash.web.schemas import TaskOut, TaskPage
from tests.api.test_rest_api import assert_error, publish_tasks
from tests.support import LiveServer, task_body

ORIGINS = ("", "http://a.example:1", "http://b.example:2")
texts = st.text(st.characters(exclude_categories=["Cs"]))  # JSON text cannot hold a surrogate
int64s = st.integers(-(2**63), 2**63 - 1)
# Stores hand back floats; a whole number must come out as the float validation makes of it.
seconds = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**53), 2**53)

tasks = st.builds(
    Task,
    id=texts,
    project_id=texts,
    instance_id=texts,
    task_id=texts,
    type=texts,
    url=texts,
    status=texts,
    time=int64s,
    user=texts,
    checker=texts,
    group=texts,
    reserved=texts,
    edit_info=texts,
    origin=st.sampled_from(ORIGINS),
    claimed_at=st.none() | seconds,
    updated_at=seconds,
)
offline_origins = st.lists(st.sampled_from(ORIGINS[1:]), unique=True).map(tuple)


@settings(max_examples=300)
@given(task=tasks, offline=offline_origins)
def test_a_task_is_written_as_the_model_writes_it(task: Task, offline: tuple[str, ...]) -> None:
    expected = TaskOut.of(task, offline=offline).model_dump_json().encode()
    assert task_json.json_bytes(task_json.api_task(task, offline=offline)) == expected


@settings(max_examples=100)
@given(
    page=st.lists(tasks, max_size=5),
    offline=offline_origins,
    cursor=st.none() | st.text(),
    total=st.none() | st.integers(min_value=0, max_value=2**53),
)
def test_a_page_is_written_as_the_model_writes_it(
    page: list[Task], offline: tuple[str, ...], cursor: str | None, total: int | None
) -> None:
    # The route answers as its model with exclude_unset: `total` only when count=true.
    model = TaskPage(items=[TaskOut.of(t, offline=offline) for t in page], next_cursor=cursor)
    built = task_json.task_page(page, offline=offline, next_cursor=cursor)
    if total is not None:
        model.total = built["total"] = total
    assert task_json.json_bytes(built) == model.model_dump_json(exclude_unset=True).encode()


@settings(max_examples=100)
@given(page=st.lists(tasks, max_size=5))
def test_a_compatible_list_is_written_as_json_response_writes_it(page: list[Task]) -> None:
    expected = JSONResponse([task.to_compat() for task in page]).body
    assert compat_list(page).body == expected


# --- the fast routes against the documented ones, on a live server ------------------------

# FastAPI ignores a parameter it does not know; the fast routes leave such a request to it.
DOCUMENTED = {"documented": "1"}
LISTINGS: list[dict[str, Any]] = [
    {},
    {"unclaimed": "true", "limit": "2"},
    {"unclaimed": "1", "order": "newest", "limit": "3"},
    {"status": "", "user": "", "type": "satEdit", "project": "p1", "online": "true"},
    {"online": "0", "unclaimed": "false", "group": "", "checker": ""},
    {"limit": "1000", "order": "oldest"},
    {"limit": "0"},
    {"limit": "1001"},
    {"order": "sideways"},
    {"cursor": "not-a-cursor"},
    {"sort": "user", "order": "newest", "count": "true"},
    {"sort": "UpdatedAt", "count": "1", "unclaimed": "true"},
    {"sort": "status", "count": "0", "claimed_before": "1e12"},
    {"sort": "nothing"},
    {"count": "maybe"},
    {"claimed_before": "soon"},
    {"claimed_before": "nan"},
]


def both_ways(client: httpx.Client, params: dict[str, Any]) -> tuple[httpx.Response, ...]:
    return tuple(client.get("/api/v1/tasks", params=p) for p in (params, params | DOCUMENTED))


def test_list_answers_are_the_documented_routes_bytes(server: LiveServer) -> None:
    server.add_user("smq")
    publish_tasks(server, *(task_body(f"t{n}", created=1596174700 + n % 3) for n in range(7)))
    client = server.login("smq")
    for params in LISTINGS:
        fast, documented = both_ways(client, params)
        assert (fast.status_code, fast.content) == (documented.status_code, documented.content)
        assert fast.headers["content-type"] == documented.headers["content-type"]
    first = client.get("/api/v1/tasks", params={"limit": "3"}).json()
    fast, documented = both_ways(client, {"limit": "3", "cursor": first["next_cursor"]})
    assert fast.content == documented.content and len(fast.json()["items"]) == 3
    other_sort = {"limit": "3", "cursor": first["next_cursor"], "sort": "user"}
    fast, documented = both_ways(client, other_sort)
    assert (fast.status_code, fast.content) == (documented.status_code, documented.content)
    assert fast.status_code == 400


def test_claims_answer_as_the_documented_routes(server: LiveServer) -> None:
    server.add_user("smq")
    ids = publish_tasks(server, *(task_body(f"t{n}", created=1596174700 + n) for n in range(4)))
    client = server.login("smq")
    claimed = [
        client.post("/api/v1/tasks/claim-next"),  # the fast route
        client.post("/api/v1/tasks/claim-next", json={}),  # a body: the documented one
        client.post(f"/api/v1/tasks/{ids[2]}/claim"),
        client.post(f"/api/v1/tasks/{ids[3]}/claim", params=DOCUMENTED),
    ]
    for answer, task_id in zip(claimed, ids, strict=True):
        assert answer.status_code == 200, answer.text
        stored = client.get(f"/api/v1/tasks/{task_id}").json()["task"]
        assert json.loads(answer.content) == stored and stored["User"] == "smq"
    assert_error(client.post("/api/v1/tasks/claim-next"), 404, 1009)
    assert_error(client.post(f"/api/v1/tasks/{ids[0]}/claim"), 409, 1007)
    assert_error(client.post("/api/v1/tasks/nope/claim"), 404, 1006)
    stranger = server.client()
    assert_error(stranger.post("/api/v1/tasks/claim-next"), 401, 1004)
    assert_error(stranger.get("/api/v1/tasks"), 401, 1004)
    foreign = {"Origin": "http://evil.example"}
    assert_error(client.post("/api/v1/tasks/claim-next", headers=foreign), 403, 1005)


def test_fast_routes_are_measured_under_their_documented_template(server: LiveServer) -> None:
    server.add_user("smq")
    client = server.login("smq")
    client.get("/api/v1/tasks")
    client.post("/api/v1/tasks/claim-next")
    client.post("/api/v1/tasks/t1/claim")
    metrics = client.get("/metrics").text
    for template in ("/api/v1/tasks", "/api/v1/tasks/claim-next", "/api/v1/tasks/{task_id}/claim"):
        assert f'route="{template}"' in metrics, template


def test_openapi_declares_the_models_the_hot_routes_answer(server: LiveServer) -> None:
    document = server.client().get("/openapi.json").json()
    declared = {
        ("get", "/api/v1/tasks"): "TaskPage",
        ("post", "/api/v1/tasks/claim-next"): "TaskOut",
        ("post", "/api/v1/tasks/{task_id}/claim"): "TaskOut",
    }
    for (method, path), model in declared.items():
        ok = document["paths"][path][method]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}"
        }
    schemas = document["components"]["schemas"]
    assert schemas["TaskOut"] == TaskOut.model_json_schema(mode="serialization")
