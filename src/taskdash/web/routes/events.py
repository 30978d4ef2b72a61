"""`GET /api/v1/events`: server-sent events for live lists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from taskdash.web.deps import UserDep
from taskdash.web.live import LiveFeed
from taskdash.web.schemas import error_responses

router = APIRouter(prefix="/api/v1", tags=["live"], responses=error_responses(401, 403, 503))

KEEPALIVE_S = 15.0
DISCONNECT_CHECK_S = 1.0


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"description": "server-sent events", "content": {"text/event-stream": {}}}},
)
async def events(request: Request, user: UserDep) -> StreamingResponse:
    """`event: task` (a task history entry) and `event: service` (health changes), as they
    happen; a comment every 15 s keeps proxies from closing the stream."""
    feed: LiveFeed = request.app.state.live_feed
    queue = feed.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n: connected\n\n"
            quiet_s = 0.0
            while not await request.is_disconnected():
                try:
                    kind, payload = await asyncio.wait_for(queue.get(), DISCONNECT_CHECK_S)
                except TimeoutError:
                    quiet_s += DISCONNECT_CHECK_S
                    if quiet_s >= KEEPALIVE_S:
                        quiet_s = 0.0
                        yield ": keepalive\n\n"
                    continue
                quiet_s = 0.0
                data = json.dumps(payload, ensure_ascii=False)
                yield f"event: {kind}\ndata: {data}\n\n"
        finally:
            feed.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
