"""Accounts: password hashing, login with throttling, sessions, and user administration."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from taskdash.domain.errors import BadCredentials, BadRequest, NotLoggedIn, TooManyRequests
from taskdash.domain.models import Role, Session, User
from taskdash.domain.ports import AccountRepo, SessionRepo
from taskdash.domain.user_names import user_name, user_name_key
from taskdash.metrics import LOGIN_FAILURES, LOGIN_THROTTLES
from taskdash.settings import Settings


class AccountStore(Protocol):
    """What the account actions use of the store (a whole Store is one)."""

    @property
    def accounts(self) -> AccountRepo: ...


class SessionStore(Protocol):
    """What signing in with a session token uses of the store."""

    @property
    def accounts(self) -> SessionRepo: ...


MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
# Names are at most 64 characters and addresses short, so only odd keys get hashed.
MAX_FAILURE_KEY_CHARS = 160
# A user who failed login_max_failures_per_user times (from any addresses) is never locked
# out, only slowed down: the first extra attempt waits this long, each next one twice as long.
SLOWDOWN_FIRST_S = 0.5
SLOWDOWN_MAX_S = 4.0

# argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ~30 ms here. The
# library's default profile takes 64 MiB per hash, so a few logins at once would cost hundreds
# of MiB. At most HASHING_AT_ONCE hashes run together, which bounds both memory and CPU; a
# stored hash with other parameters still verifies and is replaced at the next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
HASHING_AT_ONCE = 2
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)


@functools.cache
def _unknown_user_hash() -> str:
    """Verified against when the user does not exist, so that timing does not reveal who
    exists; made on first use (not at import), in the verifying thread."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    user: User
    session: Session


def token_hash(token: str) -> str:
    """Only this digest of a session token is ever stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def hash_password(password: str) -> str:
    check_password_rules(password)
    return await _hash(password)


async def _hash(password: str) -> str:
    def hash_() -> str:
        with _hashing:
            return _hasher.hash(password)

    return await asyncio.to_thread(hash_)


async def _password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; None (no such user) checks against a hash nobody has."""

    def verify() -> bool:
        try:
            with _hashing:
                return _hasher.verify(password_hash or _unknown_user_hash(), password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise BadRequest(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise BadRequest(f"password must be at most {MAX_PASSWORD_CHARS} characters")


async def create_user(
    *, store: AccountStore, name: str, role: Role, password: str, group: str = "", lang: str = "zh"
) -> User:
    user = User(
        name=user_name(name),
        role=role,
        password_hash=await hash_password(password),
        group=group.strip(),
        lang=lang,
        created_at=time.time(),
    )
    await store.accounts.add_user(user)
    return user


def login_slowdown_s(user_failures: int, *, limit: int) -> float:
    """How long a login for a user waits once it failed `limit` times from anywhere."""
    if user_failures < limit:
        return 0.0
    return min(SLOWDOWN_MAX_S, SLOWDOWN_FIRST_S * 2.0 ** (user_failures - limit))


def address_scope(address: str) -> str:
    """What one client's failures count under: its IPv4 address, or its IPv6 /64 network.

    One IPv6 host usually holds a whole /64, so counting single IPv6 addresses would let it
    use a fresh address for every attempt.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def failure_key(kind: str, *parts: str) -> str:
    """A throttling counter's key; a long one is hashed, so the table's keys stay small."""
    key = f"{kind}:" + "\n".join(parts)
    if len(key) <= MAX_FAILURE_KEY_CHARS:
        return key
    return f"{kind}:sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def login(
    *, store: AccountStore, settings: Settings, username: str, password: str, address: str
) -> LoginResult:
    """Check a password under login throttling (README: Security); start a session.

    Each attempt is counted against its address and its (user, address) pair BEFORE the
    password is checked, so a burst checks no more passwords than the limits; a success or a
    refusal takes its count back. Failures of one user across addresses only slow it down.
    """
    name = user_name(username)
    if not password or len(password) > MAX_PASSWORD_CHARS:
        raise BadRequest(f"password must be 1-{MAX_PASSWORD_CHARS} characters long")
    now = time.time()
    window = settings.login_failure_window_s
    name_key = user_name_key(name)
    scope = address_scope(address)
    counted: list[str] = []

    async def take_back() -> None:
        for key in counted:
            await store.accounts.uncount_login_attempt(key=key, now=now, window_s=window)

    limits = (
        (failure_key("addr", scope), settings.login_max_failures_per_address),
        (failure_key("pair", name_key, scope), settings.login_max_failures_per_user),
    )
    for key, limit in limits:
        attempt = await store.accounts.count_login_attempt(key=key, now=now, window_s=window)
        counted.append(key)
        if attempt.count > limit:
            await take_back()
            LOGIN_THROTTLES.inc()
            retry_after_s = max(1, math.ceil(attempt.window_start + window - now))
            raise TooManyRequests(
                "too many failed logins; try again later", retry_after_s=retry_after_s
            )
    user_key = failure_key("user", name_key)
    user_failures = await store.accounts.login_failures(key=user_key, now=now, window_s=window)
    await asyncio.sleep(login_slowdown_s(user_failures, limit=settings.login_max_failures_per_user))
    user = await store.accounts.get_user(name)
    matches = await _password_matches(user.password_hash if user else None, password)
    if user is None or user.disabled or not matches:
        await store.accounts.count_login_attempt(key=user_key, now=now, window_s=window)
        LOGIN_FAILURES.inc()
        raise BadCredentials()
    await take_back()
    if _hasher.check_needs_rehash(user.password_hash):
        # The password was accepted when it was set: today's length rules do not apply here.
        await store.accounts.update_user(name=user.name, password_hash=await _hash(password))
    token = secrets.token_urlsafe(32)
    session = Session(
        token_hash=token_hash(token),
        user=user.name,
        created_at=now,
        expires_at=now + settings.session_ttl_s,
    )
    await store.accounts.add_session(session)
    return LoginResult(token=token, user=user, session=session)


async def logout(*, store: SessionStore, token: str) -> None:
    await store.accounts.delete_session(token_hash(token))


async def authenticate(*, store: SessionStore, token: str | None) -> User:
    """The user a session token belongs to; NotLoggedIn when it is missing, expired or disabled."""
    if not token:
        raise NotLoggedIn()
    user = await store.accounts.session_user(token_hash=token_hash(token), now=time.time())
    if user is None or user.disabled:
        raise NotLoggedIn()
    return user


async def session_still_valid(*, store: SessionStore, token: str | None, user: User) -> bool:
    """Whether `token` still signs in `user` with the same role, group and state (a stream that
    was opened for them may go on showing what they could see then)."""
    try:
        now_user = await authenticate(store=store, token=token)
    except NotLoggedIn:
        return False
    return (now_user.name, now_user.role, now_user.group, now_user.disabled) == (
        user.name,
        user.role,
        user.group,
        user.disabled,
    )


async def change_access(
    *,
    store: AccountStore,
    name: str,
    role: Role | None = None,
    group: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Set a user's role, group or state; a new role or group ends their sessions (what they
    may see changed), as disabling does."""
    before = await store.accounts.get_user(name)
    user = await store.accounts.update_user(
        name=name, role=None if role is None else int(role), group=group, disabled=disabled
    )
    if before is not None and (before.role, before.group) != (user.role, user.group):
        await store.accounts.delete_user_sessions(name)
    return user


async def change_password(*, store: AccountStore, name: str, password: str) -> User:
    user = await store.accounts.update_user(name=name, password_hash=await hash_password(password))
    await store.accounts.delete_user_sessions(user.name)
    return user


async def disable_user(*, store: AccountStore, name: str) -> User:
    user = await store.accounts.update_user(name=name, disabled=True)
    await store.accounts.delete_user_sessions(user.name)
    return user


async def list_users(*, store: AccountStore) -> list[User]:
    return await store.accounts.list_users()


async def set_language(*, store: AccountStore, name: str, lang: str) -> User:
    """Remember the user's language."""
    return await store.accounts.update_user(name=name, lang=lang)


async def canonical_name(*, store: AccountStore, caller: User, name: str | None) -> str | None:
    """The stored spelling of a named user (names are unique without regard to case)."""
    if name is None or user_name_key(name) == user_name_key(caller.name):
        return caller.name if name is not None else None
    found = await store.accounts.get_user(name)
    return found.name if found else name
