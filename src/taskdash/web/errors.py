"""One place that turns errors into answers: seed-style for /rpost, HTTP statuses elsewhere."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from taskdash.domain.errors import BadRequest, TaskDashError, TooManyRequests

logger = logging.getLogger(__name__)

COMPAT_PREFIX = "/rpost/"


def error_body(error: TaskDashError, *, request_id: str = "") -> dict[str, object]:
    body: dict[str, object] = {"errid": error.errid, "errmsg": error.errmsg}
    if error.detail and error.detail != error.errmsg:
        # A detail may quote the request; a lone surrogate in it could not be encoded.
        body["detail"] = error.detail.encode("utf-8", "replace").decode("utf-8")
    if request_id:
        body["request_id"] = request_id
    return body


def error_response(request: Request, error: TaskDashError, *, request_id: str = "") -> JSONResponse:
    """The error as JSON; old front ends read it from an HTTP 200, REST uses real statuses."""
    status = 200 if request.url.path.startswith(COMPAT_PREFIX) else error.http_status
    headers = (
        {"Retry-After": str(error.retry_after_s)} if isinstance(error, TooManyRequests) else None
    )
    return JSONResponse(
        error_body(error, request_id=request_id), status_code=status, headers=headers
    )


def _body_problem(exc: HTTPException) -> str:
    """Say what FastAPI's "There was an error parsing the body" was about."""
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return "body is JSON nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return f"body is not UTF-8 (bad byte at offset {cause.start})"
    if isinstance(cause, ValueError):
        return f"body is not usable JSON: {cause}"
    return str(exc.detail)


def install_error_handlers(app: FastAPI) -> None:
    async def on_taskdash_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TaskDashError)
        return error_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(request, BadRequest(f"{where}: {first.get('msg', 'invalid')}"))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        # Starlette's own refusals (no such path, wrong method, an unparsable body) keep their
        # status and carry the seed's errmsg like every other bad request; detail says why.
        assert isinstance(exc, HTTPException)
        detail = {404: "no such path", 405: "method not allowed"}.get(exc.status_code)
        body = error_body(BadRequest(detail or _body_problem(exc)))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(TaskDashError, on_taskdash_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
