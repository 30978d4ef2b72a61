"""The hottest routes' plain requests answered without FastAPI's per-request machinery.

Solving dependencies and validating parameters cost FastAPI several times what a list page or a
claim needs (bench/FINDINGS.md, "Issue 14: list and claim"). A FastRoute sits before every other
route and takes only the plain form of one documented route's requests: known parameters, each
once, with values it parses exactly as FastAPI would, and no body. It answers them with the same
function the documented endpoint calls. Anything else (an unknown, repeated or unusual parameter,
a body) goes on to the documented route, so every answer, error and the OpenAPI document stay
FastAPI's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from pydantic import ValidationError
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, compile_path
from starlette.types import Receive, Scope, Send

from taskdash.actions import tasks
from taskdash.domain.ports import Store
from taskdash.settings import Settings
from taskdash.web.deps import current_user
from taskdash.web.routes import compat
from taskdash.web.routes import tasks as task_routes
from taskdash.web.schemas import TaskListIn

Args = dict[str, Any]
Parse = Callable[[Scope, dict[str, str]], Args | None]
Answer = Callable[[Request, Args], Awaitable[Response]]
_ARGS = "taskdash.fast_args"


class FastRoute(BaseRoute):
    """Answers the plain requests of the documented route `method path`; declines the rest."""

    def __init__(self, *, method: str, path: str, parse: Parse, answer: Answer) -> None:
        self.method = method
        self.path = self.path_format = path  # the documented template, as metrics label it
        self._regex: re.Pattern[str] = compile_path(path)[0]
        self._parse = parse
        self._answer = answer

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != self.method:
            return Match.NONE, {}
        found = self._regex.match(get_route_path(scope))
        if found is None:
            return Match.NONE, {}
        args = self._parse(scope, found.groupdict())
        if args is None:
            return Match.NONE, {}
        return Match.FULL, {"route": self, _ARGS: args}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A TaskDashError goes on to the app's exception handler, as from the endpoint.
        response = await self._answer(Request(scope, receive), scope[_ARGS])
        await response(scope, receive, send)


def _query(scope: Scope) -> dict[str, str] | None:
    """The query parameters as Starlette reads them; None when one is repeated."""
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    params = dict(pairs)
    return params if len(params) == len(pairs) else None


def _without_body(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    return b"transfer-encoding" not in headers and headers.get(b"content-length", b"0") == b"0"


_LIST_FIELDS = frozenset(TaskListIn.model_fields)
_FLAGS = {"true": True, "1": True, "false": False, "0": False}
_LIMIT = re.compile(r"[1-9][0-9]{0,5}")
_LIST_PARAMS = _LIST_FIELDS | {"limit", "cursor", "count"}


def parse_list(scope: Scope, path_params: dict[str, str]) -> Args | None:
    """GET /api/v1/tasks's arguments, when every parameter is one FastAPI reads the same way."""
    params = _query(scope)
    if params is None or not params.keys() <= _LIST_PARAMS:
        return None
    limit, count = params.pop("limit", "50"), params.pop("count", "false")
    if not _LIMIT.fullmatch(limit) or int(limit) > tasks.MAX_PAGE or count not in _FLAGS:
        return None
    cursor = params.pop("cursor", None)
    try:  # the same model FastAPI validates the query with; its refusals are FastAPI's to answer
        list_params = TaskListIn.model_validate(params)
    except ValidationError:
        return None
    return {"params": list_params, "limit": int(limit), "cursor": cursor, "count": _FLAGS[count]}


def parse_bodiless(scope: Scope, path_params: dict[str, str]) -> Args | None:
    """The path's arguments of a request without a body or query (claim-next, claim)."""
    return dict(path_params) if _without_body(scope) and not scope["query_string"] else None


def parse_any(scope: Scope, path_params: dict[str, str]) -> Args:
    """Every request: the compatible endpoint reads its own body and answers its own errors."""
    return {}


def _context(request: Request) -> tuple[Store, Settings]:
    return request.app.state.store, request.app.state.settings


async def answer_list(request: Request, args: Args) -> Response:
    store, _ = _context(request)
    user = await current_user(request, store)
    return await task_routes.task_page(store=store, user=user, **args)


async def answer_claim_next(request: Request, args: Args) -> Response:
    store, settings = _context(request)
    user = await current_user(request, store)
    return await task_routes.claimed_next(store=store, settings=settings, user=user, body=None)


async def answer_claim(request: Request, args: Args) -> Response:
    store, settings = _context(request)
    user = await current_user(request, store)
    return await task_routes.claimed(
        store=store, settings=settings, user=user, task_id=args["task_id"]
    )


async def answer_rpost(request: Request, args: Args) -> Response:
    return await compat.rpost_task(request)


def install_fast_routes(app: FastAPI) -> None:
    """Put the fast routes before every other route of `app`."""
    prefix = task_routes.router.prefix
    app.router.routes[:0] = [
        FastRoute(method="POST", path=compat.COMPAT_PATH, parse=parse_any, answer=answer_rpost),
        FastRoute(method="GET", path=prefix, parse=parse_list, answer=answer_list),
        FastRoute(
            method="POST",
            path=f"{prefix}/claim-next",
            parse=parse_bodiless,
            answer=answer_claim_next,
        ),
        FastRoute(
            method="POST",
            path=f"{prefix}/{{task_id}}/claim",
            parse=parse_bodiless,
            answer=answer_claim,
        ),
    ]
