"""`GET /api/v1/events`: server-sent events for live lists, filtered by what the user may see."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from taskdash.actions import accounts
from taskdash.log_limits import RepeatedLog
from taskdash.web.deps import SESSION_COOKIE, StoreDep, UserDep
from taskdash.web.live import CLOSED, LiveFeed
from taskdash.web.schemas import error_responses

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

router = APIRouter(prefix="/api/v1", tags=["live"], responses=error_responses(401, 403, 503))

KEEPALIVE_S = 15.0
DISCONNECT_CHECK_S = 1.0
# The session is checked again this often: a stream outlives its session by at most this (plus
# one wait), well inside the 10 s a logout, disable or role change must take to end it.
SESSION_CHECK_S = 3.0


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"description": "server-sent events", "content": {"text/event-stream": {}}}},
)
async def events(request: Request, user: UserDep, store: StoreDep) -> StreamingResponse:
    """`event: task` (a history entry of a task the caller may see), `event: remove` (`{"task_id"}`
    of a task that left the caller's lists) and `event: service` (health changes), as they
    happen; a comment every 15 s keeps proxies from closing the stream. The stream ends when
    its session does (logout, expiry, disable, new password, new role or group)."""
    feed: LiveFeed = request.app.state.live_feed
    token = request.cookies.get(SESSION_COOKIE)
    subscriber = feed.subscribe(user)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n: connected\n\n"
            quiet_s = 0.0
            check_at = time.monotonic() + SESSION_CHECK_S
            while not await request.is_disconnected():
                if time.monotonic() >= check_at:
                    if not await session_ok():
                        return
                    check_at = time.monotonic() + SESSION_CHECK_S
                try:
                    text = await asyncio.wait_for(subscriber.queue.get(), DISCONNECT_CHECK_S)
                except TimeoutError:
                    quiet_s += DISCONNECT_CHECK_S
                    if quiet_s >= KEEPALIVE_S:
                        quiet_s = 0.0
                        yield ": keepalive\n\n"
                    continue
                if text == CLOSED:
                    return
                quiet_s = 0.0
                yield text
        finally:
            feed.unsubscribe(subscriber)

    async def session_ok() -> bool:
        try:
            return await accounts.session_still_valid(store=store, token=token, user=user)
        except Exception as exc:
            # Cannot tell (store down): end it rather than go on unchecked; the client reconnects.
            repeated.warning("session check", "live stream: session check failed: %s", exc)
            return False

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
