"""Request dependencies: settings, store, the signed-in user (with a role), the Origin check."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from taskdash.actions import accounts, tasks
from taskdash.domain.errors import Forbidden
from taskdash.domain.models import Role, User
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


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@functools.cache
def _trusted_networks(proxies: tuple[str, ...]) -> Networks:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _ip(text: str) -> IpAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # a dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d
    return ip


def client_address(request: Request) -> str:
    """The client's IP: the TCP peer, or from X-Forwarded-For when the peer is a trusted proxy.

    Walking X-Forwarded-For from the right, the first address that is not itself a trusted
    proxy is the client (entries left of it could be forged by the client). Uvicorn's own
    proxy-header handling is switched off (cli.py), so this is the only place that decides.
    """
    peer = _ip(request.client.host) if request.client else None
    if peer is None:
        return request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings
    trusted = _trusted_networks(tuple(settings.trusted_proxies))

    def is_trusted(ip: IpAddress) -> bool:
        return any(ip in network for network in trusted)

    client = peer
    if is_trusted(peer):
        hops = ",".join(request.headers.getlist("x-forwarded-for")).split(",")
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:
                break  # garbage: the proxy that passed it on is the last address we know
            client = ip
            if not is_trusted(ip):
                break
    return str(client)


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


def signed_in_with(role: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency: the signed-in user, who must hold `role` or above (Forbidden, 1005)."""

    async def user_with_role(user: UserDep) -> User:
        tasks.require_role(user, role)
        return user

    return user_with_role


ManagerUser = Annotated[User, Depends(signed_in_with(Role.MANAGER))]
AdminUser = Annotated[User, Depends(signed_in_with(Role.ADMIN))]
