"""Probes and metrics: /healthz (process up), /readyz (store and NSQ usable), /metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from taskdash.domain.errors import NotLoggedIn
from taskdash.web.errors import error_body
from taskdash.web.schemas import json_error_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_READINESS = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["ready", "checks"],
            "properties": {
                "ready": {"type": "boolean"},
                "checks": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    }
}


@router.get(
    "/readyz",
    responses={
        200: {"description": "every dependency answers", "content": _READINESS},
        503: {"description": "a dependency is unreachable (see checks)", "content": _READINESS},
    },
)
async def readyz(request: Request) -> JSONResponse:
    """503 with the reason while the store cannot read and write, or an nsqd is not consumed."""
    checks: dict[str, str] = {}
    for name, probe in request.app.state.readiness_probes.items():
        checks[name] = await probe()
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _metrics_allowed(request: Request) -> bool:
    token: str = request.app.state.settings.metrics_token.get_secret_value()
    if not token:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"description": "Prometheus text format", "content": {"text/plain": {}}},
        **json_error_responses(400, 401, 500),
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics; behind `Authorization: Bearer` when TASKDASH_METRICS_TOKEN is set."""
    if not _metrics_allowed(request):
        error = NotLoggedIn("/metrics needs Authorization: Bearer <TASKDASH_METRICS_TOKEN>")
        return JSONResponse(
            error_body(error),
            status_code=error.http_status,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
