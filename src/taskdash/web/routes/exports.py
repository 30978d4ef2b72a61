"""CSV exports (/api/v1/tasks/export.csv, /api/v1/history/export.csv), streamed page by page."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from taskdash.actions import exports
from taskdash.domain.errors import BadRequest
from taskdash.web.deps import StoreDep, UserDep
from taskdash.web.routes.tasks import list_query
from taskdash.web.schemas import TaskListIn, json_error_responses

router = APIRouter(tags=["exports"], responses=json_error_responses(400, 401, 403, 503))
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "a CSV file", "content": {"text/csv": {}}}
}


def csv_response(export: exports.Export) -> StreamingResponse:
    return StreamingResponse(
        (chunk.encode() async for chunk in export.chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.get("/api/v1/tasks/export.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
async def export_tasks(
    user: UserDep, store: StoreDep, params: Annotated[TaskListIn, Query()]
) -> StreamingResponse:
    """Every task of the list with the same parameters, as CSV (UTF-8 with a BOM; the seed's
    twelve keys first; text starting with = + - @ tab or CR prefixed with ')."""
    page_size = exports.EXPORT_PAGE_SIZE
    export = await exports.export_tasks(
        store=store,
        user=user,
        query=list_query(params, limit=page_size, cursor=None),
        unclaimed=params.unclaimed,
        online=params.online,
        now=time.time(),
        page_size=page_size,
    )
    return csv_response(export)


@router.get("/api/v1/history/export.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
async def export_history(
    user: UserDep,
    store: StoreDep,
    since: Annotated[float, Query(description="Unix seconds, inclusive")] = 0.0,
    until: Annotated[
        float | None, Query(description="Unix seconds, exclusive; now if absent")
    ] = None,
) -> StreamingResponse:
    """History lines in [since, until) by time, as CSV: every task's for managers and admins,
    those of tasks the caller holds or checks for others."""
    now = time.time()
    end = now if until is None else until
    if end < since:
        raise BadRequest("until is before since")
    export = await exports.export_history(
        store=store,
        user=user,
        since=since,
        until=end,
        now=now,
        page_size=exports.EXPORT_PAGE_SIZE,
    )
    return csv_response(export)
