"""nsqd-compatible HTTP ingest: `POST /pub?topic=` and `POST /mpub?topic=` behind a token.

Bodies go through the same handlers as NSQ messages; "OK" is answered only after they are
durably stored (or dead-lettered). Off when no ingest token is set. Sizes are nsqd's defaults
and are refused as nsqd v1.3.0 refuses them: 413 with `{"message":"MSG_TOO_BIG"}` or
`{"message":"BODY_TOO_BIG"}` (the bodies are limited by web.body_limit before they are read).
"""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from taskdash.domain.errors import TaskDashError
from taskdash.messaging.handlers import InboundMessage, MessageHandler, UnknownTopic

_NSQD_ANSWER = {"content": {"text/plain": {"schema": {"type": "string"}}}}
# Answers are nsqd's own: plain text such as "OK" or "TOPIC_MISSING", not JSON.
router = APIRouter(
    tags=["ingest"],
    default_response_class=PlainTextResponse,
    responses={
        200: {"description": "OK: stored or dead-lettered", **_NSQD_ANSWER},
        400: {"description": "TOPIC_MISSING, INVALID_TOPIC, MSG_EMPTY", **_NSQD_ANSWER},
        401: {"description": "UNAUTHORIZED: wrong or missing bearer token", **_NSQD_ANSWER},
        404: {"description": "HTTP ingest is off (no ingest token set)", **_NSQD_ANSWER},
        413: {"description": "BODY_TOO_BIG, TOO_MANY_MESSAGES", **_NSQD_ANSWER},
        503: {"description": "E_STORE_FAILED: nothing was acknowledged", **_NSQD_ANSWER},
        # An unexpected failure is answered by the web layer, as JSON (errid 1011).
        500: {
            "description": "unexpected error (errid 1011)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        },
    },
)

MAX_MSG_BYTES = 1_048_576  # nsqd --max-msg-size: one message (/pub, each line of /mpub)
MAX_BODY_BYTES = 5_242_880  # nsqd --max-body-size: a whole /mpub
MAX_MPUB_MESSAGES = 10_000


def nsqd_error(status: int, message: str) -> Response:
    """An error as nsqd's HTTP API v1 answers it (status, JSON body and both headers)."""
    return Response(
        f'{{"message":"{message}"}}',
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers={"X-NSQ-Content-Type": "nsq; version=1.0"},
    )


def body_limits() -> dict[str, tuple[int, Response]]:
    """path -> nsqd's body limit in bytes and its answer beyond it (other paths: the default)."""
    return {
        "/pub": (MAX_MSG_BYTES, nsqd_error(413, "MSG_TOO_BIG")),
        "/mpub": (MAX_BODY_BYTES, nsqd_error(413, "BODY_TOO_BIG")),
    }


def _refuse(status: int, text: str) -> PlainTextResponse:
    # nsqd answers errors as plain text such as "TOPIC_MISSING"; we do the same.
    return PlainTextResponse(text, status_code=status)


def _authorised(request: Request) -> bool:
    token: str = request.app.state.settings.ingest_token
    given = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def _ingest(request: Request, bodies: list[bytes], topic: str) -> PlainTextResponse:
    handler: MessageHandler = request.app.state.message_handler
    received_ns = time.time_ns()
    # One receipt time per request; line order inside an mpub is its publish order.
    messages = [
        InboundMessage(topic=topic, body=body, ts_ns=received_ns + index)
        for index, body in enumerate(bodies)
    ]
    try:
        await handler.handle_batch(messages)
    except TaskDashError as exc:
        return _refuse(503, f"E_STORE_FAILED {exc.detail or exc.errmsg}")
    return PlainTextResponse("OK")


async def _checked(request: Request, topic: str | None) -> PlainTextResponse | None:
    if not request.app.state.settings.ingest_token:
        return _refuse(404, "HTTP ingest is off (set TASKDASH_INGEST_TOKEN)")
    if not _authorised(request):
        return _refuse(401, "UNAUTHORIZED")
    if not topic:
        return _refuse(400, "TOPIC_MISSING")
    try:
        request.app.state.message_handler.kind_of(topic)
    except UnknownTopic:
        return _refuse(400, "INVALID_TOPIC")
    return None


def _body(description: str) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    }


@router.post("/pub", openapi_extra=_body("one message body, as a task service publishes it"))
async def pub(request: Request, topic: str | None = None) -> Response:
    """Publish one message body, as nsqd's /pub."""
    refused = await _checked(request, topic)
    if refused:
        return refused
    body = await request.body()
    if not body:
        return _refuse(400, "MSG_EMPTY")
    return await _ingest(request, [body], topic or "")


@router.post("/mpub", openapi_extra=_body("message bodies, one per line"))
async def mpub(request: Request, topic: str | None = None) -> Response:
    """Publish newline-separated message bodies, as nsqd's /mpub."""
    refused = await _checked(request, topic)
    if refused:
        return refused
    body = await request.body()
    bodies = [line for line in body.split(b"\n") if line.strip()]
    if not bodies:
        return _refuse(400, "MSG_EMPTY")
    if any(len(line) > MAX_MSG_BYTES for line in bodies):
        return nsqd_error(413, "MSG_TOO_BIG")
    if len(bodies) > MAX_MPUB_MESSAGES:
        return _refuse(413, "TOO_MANY_MESSAGES")
    return await _ingest(request, bodies, topic or "")
