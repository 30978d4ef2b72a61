"""Request IDs on every answer, and one place where an unexpected exception becomes an answer.

An unexpected exception is logged once, with its traceback and the request ID, and answered
with errid 1011 and that ID (the client can quote it). Starlette's own last-resort handler
re-raises after answering, so uvicorn logs the traceback a second time and drops the
keep-alive connection; this middleware does neither. A client that goes away in the middle of
its body is not an error of ours: one debug line.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive, Scope, Send

from taskdash.domain.errors import InternalError
from taskdash.web.errors import error_response
from taskdash.web.http_middleware import HttpMiddleware

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's (or a proxy's) ID is kept when it is plain enough to be logged as it is.
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The ID this middleware gave the request ('' outside it)."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _WELL_FORMED_ID.fullmatch(text) else None
    return None


class ServerErrors(HttpMiddleware):
    """Gives each HTTP request an ID and turns an unexpected exception into errid 1011."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            logger.debug(
                "client went away before its body arrived: %s %s (request %s)",
                scope["method"],
                scope["path"],
                request_id,
            )
        except Exception:
            logger.exception(
                "unexpected error on %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if not started:
                await _answer_internal_error(scope, receive, send_with_id, request_id)
            # Once an answer has begun it cannot be replaced; uvicorn closes the connection.


async def _answer_internal_error(
    scope: Scope, receive: Receive, send: Send, request_id: str
) -> None:
    response = error_response(Request(scope), InternalError(), request_id=request_id)
    await response(scope, receive, send)
