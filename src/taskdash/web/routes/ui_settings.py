"""The server's settings the web front end works by (/api/v1/settings/ui)."""

from __future__ import annotations

from fastapi import APIRouter

from taskdash.actions import assignment, tasks
from taskdash.web.deps import SettingsDep, UserDep
from taskdash.web.schemas import UiSettingsOut, error_responses

router = APIRouter(prefix="/api/v1/settings", tags=["session"], responses=error_responses(401, 503))


@router.get("/ui")
async def ui_settings(user: UserDep, settings: SettingsDep) -> UiSettingsOut:
    """Finished statuses, the claim limit and the list and assign limits (signed-in users)."""
    return UiSettingsOut(
        finished_statuses=list(settings.finished_statuses),
        max_claims_per_user=settings.max_claims_per_user,
        max_page=tasks.MAX_PAGE,
        max_bulk_assign=assignment.MAX_BULK_ASSIGN,
    )
