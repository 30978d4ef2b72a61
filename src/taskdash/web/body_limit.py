"""A size limit on every request body, enforced before the body is buffered (plain ASGI).

A Content-Length over the limit is answered at once, before a byte of the body is read (so a
client waiting on `Expect: 100-continue` never sends it). A body without one (chunked, or a
Content-Length that lies) is counted as it arrives and refused as soon as it passes the limit,
whatever the route was doing with it. The server drops the rest of a refused body as it comes
in (nothing is buffered), so the connection stays usable for the client's next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskdash.domain.errors import PayloadTooLarge
from taskdash.web.errors import error_body
from taskdash.web.http_middleware import HttpMiddleware


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """At most `max_bytes` of body, else `answer`."""

    max_bytes: int
    answer: Response


def too_large_answer(max_bytes: int) -> Response:
    """The errid answer to a body over the limit (413, also at /rpost: see the README)."""
    error = PayloadTooLarge(f"body is larger than {max_bytes} bytes")
    return JSONResponse(error_body(error), status_code=error.http_status)


class _BodyTooLarge(Exception):
    """Raised to the app by `receive` once the body has passed its limit."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimits(HttpMiddleware):
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, paths: Mapping[str, BodyLimit] | None = None
    ) -> None:
        super().__init__(app)
        self.default = BodyLimit(max_body_bytes, too_large_answer(max_body_bytes))
        self.paths = dict(paths or {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.paths.get(scope["path"], self.default)
        declared = _declared_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await limit.answer(scope, receive, send)
            return
        received = 0
        exceeded = answered = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if exceeded and not answered:
                return  # the app's answer to a body cut short; ours replaces it
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # Whatever the app made of the cut (FastAPI turns it into a 400) is not the answer.
            if not exceeded or answered:
                raise
        if exceeded and not answered:
            await limit.answer(scope, receive, send)
