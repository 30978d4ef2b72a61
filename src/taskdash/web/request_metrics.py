"""HTTP latency by route template, method and status class (plain ASGI, around the app)."""

from __future__ import annotations

import time

from starlette.types import Message, Receive, Scope, Send

from taskdash.metrics import HTTP_SECONDS, status_class
from taskdash.web.http_middleware import HttpMiddleware

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics(HttpMiddleware):
    """Observes each request once it ends; the label is the matched route's path template."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_SECONDS.labels(route_template(scope), method, status_class(status)).observe(
                time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """`/api/v1/tasks/{task_id}` for `/api/v1/tasks/t1`; never the raw path (bounded labels)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return "unmatched"
