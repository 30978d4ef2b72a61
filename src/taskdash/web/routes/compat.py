"""`POST /rpost/task`: the seed's front-end endpoint, answer for answer (SPEC §7.1)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

# Starlette's own class: fastapi's HTTPException is a subclass, which would not catch it.
from starlette.exceptions import HTTPException

from taskdash.actions import accounts, assignment, tasks
from taskdash.domain.errors import BadRequest, TaskDashError
from taskdash.domain.models import Task, TaskQuery
from taskdash.domain.ports import AssignChange, Store
from taskdash.domain.user_names import user_name
from taskdash.settings import Settings
from taskdash.web import task_json
from taskdash.web.deps import check_origin, client_address, current_user
from taskdash.web.errors import error_response
from taskdash.web.routes.compat_schema import RPOST_OPENAPI, RPOST_RESPONSES
from taskdash.web.session_cookie import set_session_cookie

router = APIRouter()
COMPAT_PATH = "/rpost/task"

Params = dict[str, Any]


def success() -> JSONResponse:
    return JSONResponse("success")


MAX_OFFSET = 100_000  # deep offsets cost a scan; the REST API pages by cursor instead
MAX_NUMBER_DIGITS = 30  # more than any limit, offset or numeric ID can use
_WHOLE_NUMBER = re.compile(rf"-?[0-9]{{1,{MAX_NUMBER_DIGITS}}}")


async def read_params(request: Request) -> Params:
    """The body as JSON or form fields; repeated form fields become lists."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except HTTPException as exc:  # Starlette's answer to a malformed form
            raise BadRequest(f"body is not a readable form: {exc.detail}") from None
        params: Params = {}
        for key in form:
            values = [v for v in form.getlist(key) if isinstance(v, str)]
            params[key] = values[0] if len(values) == 1 else values
        return params
    raw = await request.body()
    if not raw.strip():
        return {}
    return _decode_json_object(raw)


def _decode_json_object(raw: bytes) -> Params:
    try:
        body = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_object_without_repeated_keys,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not UTF-8 (bad byte at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"body is neither JSON nor a form: {exc.msg} at offset {exc.pos}"
        ) from None
    except RecursionError:
        raise BadRequest("body is JSON nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> Params:
    # Parsers disagree on which of two equal keys wins; a proxy may check the other one.
    params: Params = {}
    for key, value in pairs:
        if key in params:
            raise BadRequest(f"key {key} appears more than once")
        params[key] = value
    return params


def _refuse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise BadRequest(f"number {literal[:MAX_NUMBER_DIGITS]} is out of range")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise BadRequest(
            f"number {literal[:MAX_NUMBER_DIGITS]}… has more than {MAX_NUMBER_DIGITS} digits"
        )
    return int(literal)


def _unicode_text(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{name} is not Unicode text (it has a lone surrogate)") from None
    return value


def text(params: Params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return _unicode_text(name, value)


def user_param(params: Params, name: str) -> str | None:
    """A parameter naming a user, under the one user-name rule (domain/user_names.py)."""
    value = text(params, name)
    return None if value is None else user_name(value)


def number(params: Params, name: str, *, default: int, maximum: int) -> int:
    """A whole number given as a JSON number or as digits; at most `maximum`."""
    value = params.get(name)
    if value is None or value == "":
        return default
    whole_text = isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip())
    if whole_text or (isinstance(value, float) and value.is_integer()):
        parsed = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        parsed = value
    else:
        raise BadRequest(f"{name} must be a whole number")
    if parsed < 0:
        raise BadRequest(f"{name} must not be negative")
    return min(parsed, maximum)


def flag(params: Params, name: str) -> bool:
    """A yes/no parameter: JSON true/false, or a form's "true"/"false"/"1"/"0"."""
    value = params.get(name)
    if value is None or value is False or value in ("", "false", "0"):
        return False
    if value is True or value in ("true", "1"):
        return True
    raise BadRequest(f"{name} must be true or false")


def id_list(params: Params) -> list[str]:
    ids = params.get("IDs")
    if ids is None:
        one = text(params, "ID", required=True)
        return [one] if one else []
    if isinstance(ids, str):
        ids = [part.strip() for part in ids.split(",")]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest("IDs must be a list of task IDs")
    cleaned = [_unicode_text("IDs", i) for i in ids if i]
    if not cleaned:
        raise BadRequest("IDs is empty")
    return cleaned


def compat_list(items: list[Task]) -> Response:
    """A task array, in the bytes JSONResponse would write (tests/api/test_fast_answers.py)."""
    content = task_json.json_bytes([task_json.compat_task(task) for task in items])
    return Response(content, media_type="application/json")


Operation = Callable[[Request, Store, Settings, Params], Awaitable[Response]]


async def user_login(request: Request, store: Store, settings: Settings, p: Params) -> JSONResponse:
    check_origin(request)
    result = await accounts.login(
        store=store,
        settings=settings,
        username=text(p, "username", required=True) or "",
        password=text(p, "password", required=True) or "",
        address=client_address(request),
    )
    response = success()
    set_session_cookie(response, result.token, settings)
    return response


def _page(p: Params, **filters: Any) -> TaskQuery:
    return TaskQuery(
        limit=number(p, "limit", default=tasks.MAX_PAGE, maximum=tasks.MAX_PAGE),
        offset=number(p, "offset", default=0, maximum=MAX_OFFSET),
        **filters,
    )


async def get_tasks_no_user(
    request: Request, store: Store, settings: Settings, p: Params
) -> Response:
    user = await current_user(request, store)
    query = _page(p, type=text(p, "TaskType"), project_id=text(p, "ProjectID"))
    return compat_list(await tasks.list_unclaimed(store=store, user=user, query=query))


async def get_tasks_by_user(
    request: Request, store: Store, settings: Settings, p: Params
) -> Response:
    user = await current_user(request, store)
    named = await accounts.canonical_name(store=store, caller=user, name=user_param(p, "user"))
    query = _page(p, user=named or user.name, newest_first=True)
    return compat_list(await tasks.list_tasks(store=store, user=user, query=query))


async def get_tasks_by_status(
    request: Request, store: Store, settings: Settings, p: Params
) -> Response:
    user = await current_user(request, store)
    query = _page(p, status=text(p, "status", required=True), newest_first=True)
    return compat_list(await tasks.list_tasks(store=store, user=user, query=query))


async def task_bind(request: Request, store: Store, settings: Settings, p: Params) -> JSONResponse:
    user = await current_user(request, store)
    task_id = text(p, "ID")
    if task_id:
        await tasks.claim(
            store=store,
            settings=settings,
            actor=user,
            task_id=task_id,
            for_user=user_param(p, "user"),
        )
    else:
        await tasks.claim_next(
            store=store,
            settings=settings,
            actor=user,
            for_user=user_param(p, "user"),
            task_type=text(p, "TaskType"),
            project_id=text(p, "ProjectID"),
        )
    return success()


async def task_assign(
    request: Request, store: Store, settings: Settings, p: Params
) -> JSONResponse:
    user = await current_user(request, store)
    change = AssignChange(
        user=_optional_user(p, "user"),
        checker=_optional_user(p, "checker"),
        group=_optional_text(p, "group"),
    )
    if change == AssignChange():
        raise BadRequest("give user, checker or group")
    outcome = await assignment.assign(
        store=store,
        settings=settings,
        actor=user,
        task_ids=id_list(p),
        change=change,
        override_limit=flag(p, "override_limit"),
    )
    if outcome.failed:
        task_id, error = next(iter(outcome.failed.items()))
        raise type(error)(
            f"{len(outcome.failed)} task(s) not assigned; first {task_id}: {error.detail}"
        )
    return success()


def _optional_text(p: Params, name: str) -> str | None:
    """Present means set ('' clears); absent means leave as it is."""
    if name not in p:
        return None
    return text(p, name) or ""


def _optional_user(p: Params, name: str) -> str | None:
    """A user to set ('' clears; absent leaves as it is), under the user-name rule."""
    if name not in p:
        return None
    return user_param(p, name) or ""


async def task_release(
    request: Request, store: Store, settings: Settings, p: Params
) -> JSONResponse:
    user = await current_user(request, store)
    await tasks.release(store=store, actor=user, task_id=text(p, "ID", required=True) or "")
    return success()


OPERATIONS: dict[str, Operation] = {
    "userLogin": user_login,
    "GetTasksNoUser": get_tasks_no_user,
    "GetTasksByUser": get_tasks_by_user,
    "GetTasksByStatus": get_tasks_by_status,
    "TaskBind": task_bind,
    "TaskAssign": task_assign,
    "TaskRelease": task_release,
}


@router.post(
    COMPAT_PATH,
    tags=["compatible"],
    summary="The seed's operation endpoint",
    openapi_extra=RPOST_OPENAPI,
    responses=RPOST_RESPONSES,
)
async def rpost_task(request: Request) -> Response:
    """JSON or form body with `operation`; answers `"success"`, a task array, or an error."""
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    try:
        params = await read_params(request)
        name = text(params, "operation", required=True) or ""
        operation = OPERATIONS.get(name)
        if operation is None:
            raise BadRequest(f"unknown operation {name}")
        return await operation(request, store, settings, params)
    except TaskDashError as exc:
        return error_response(request, exc)
