"""Login, logout and the signed-in user (/api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from taskdash.actions import accounts
from taskdash.web.deps import (
    SESSION_COOKIE,
    SettingsDep,
    StoreDep,
    UserDep,
    check_origin,
    client_address,
)
from taskdash.web.schemas import LoginIn, MeIn, UserOut, error_responses
from taskdash.web.session_cookie import clear_session_cookie, set_session_cookie

router = APIRouter(prefix="/api/v1", tags=["session"], responses=error_responses(401, 403, 503))


@router.post("/login", responses=error_responses(429))
async def login(
    body: LoginIn, request: Request, response: Response, store: StoreDep, settings: SettingsDep
) -> UserOut:
    """Check the password and set the session cookie (HttpOnly, SameSite=Lax)."""
    check_origin(request)
    result = await accounts.login(
        store=store,
        settings=settings,
        username=body.username,
        password=body.password,
        address=client_address(request),
    )
    set_session_cookie(response, result.token, settings)
    return UserOut.of(result.user)


@router.post("/logout", status_code=204)
async def logout(
    request: Request, response: Response, store: StoreDep, settings: SettingsDep
) -> None:
    check_origin(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await accounts.logout(store=store, token=token)
    clear_session_cookie(response, settings)


@router.get("/me")
async def me(user: UserDep) -> UserOut:
    return UserOut.of(user)


@router.patch("/me")
async def update_me(body: MeIn, user: UserDep, store: StoreDep) -> UserOut:
    """Remember the user's language."""
    return UserOut.of(await accounts.set_language(store=store, name=user.name, lang=body.lang))
