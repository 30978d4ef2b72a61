"""Security headers on every answer, and redirects that never name a host, as an ASGI middleware.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) runs each request in a task group
with memory streams, which cost more than many of our endpoints; this one only edits the
`http.response.start` message on its way out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from taskdash.web.http_middleware import HttpMiddleware

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") or ("", None)
        host = Headers(scope=scope).get("host") or (
            f"{server[0]}:{server[1]}" if server[1] else server[0]
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "location" in headers:
                    headers["Location"] = relative_location(headers["location"], host)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def relative_location(location: str, host: str) -> str:
    """A redirect to this server without its scheme and host.

    Starlette builds redirects (a missing trailing slash) from the request's Host header, which
    the client chooses: `Host: evil.example` would otherwise send the browser there.
    """
    parts = urlsplit(location)
    if not parts.netloc or parts.netloc != host:
        return location
    return parts._replace(scheme="", netloc="").geturl() or "/"
