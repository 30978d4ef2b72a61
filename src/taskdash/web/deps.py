"""Request dependencies: settings, store, the signed-in user, and the browser Origin check."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from taskdash.actions import accounts
from taskdash.domain.errors import Forbidden
from taskdash.domain.models import User
from taskdash.domain.ports import Store
from taskdash.settings import Settings

SESSION_COOKIE = "taskdash_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, a thread
# hop per request that costs more than the lookup itself.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_origin(request: Request) -> None:
    """Refuse a state-changing browser request that comes from another site (CSRF)."""
    if request.method not in UNSAFE_METHODS:
        return
    settings: Settings = request.app.state.settings
    origin = request.headers.get("origin")
    if origin is None:
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise Forbidden("cross-site request refused")
        return
    if origin in settings.allowed_origins:
        return
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise Forbidden("request from another origin refused")


async def current_user(request: Request, store: StoreDep) -> User:
    """The signed-in user; NotLoggedIn (1004) without a valid session."""
    check_origin(request)
    user = await accounts.authenticate(store=store, token=request.cookies.get(SESSION_COOKIE))
    request.state.user = user
    return user


UserDep = Annotated[User, Depends(current_user)]
