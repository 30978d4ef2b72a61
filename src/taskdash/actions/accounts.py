"""Accounts: password hashing, login with throttling, sessions, and user administration."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from taskdash.domain.errors import BadCredentials, BadRequest, NotLoggedIn, TooManyRequests
from taskdash.domain.models import Role, Session, User
from taskdash.domain.ports import Store
from taskdash.settings import Settings

MAX_NAME_CHARS = 64
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024

# argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ~30 ms here. The
# library's default profile takes 64 MiB per hash, so a few logins at once would cost hundreds
# of MiB. At most HASHING_AT_ONCE hashes run together, which bounds both memory and CPU; a
# stored hash with other parameters still verifies and is replaced at the next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
HASHING_AT_ONCE = 2
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
# Verified against when the user does not exist, so that timing does not reveal who exists.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


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


async def _password_matches(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            with _hashing:
                return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def check_user_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS or any(ch.isspace() or ch in "/\\" for ch in name):
        raise BadRequest(f"user name must be 1-{MAX_NAME_CHARS} characters without spaces")
    return name


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise BadRequest(f"password must be at least {MIN_PASSWORD_CHARS} characters")


async def create_user(
    *, store: Store, name: str, role: Role, password: str, group: str = "", lang: str = "zh"
) -> User:
    user = User(
        name=check_user_name(name),
        role=role,
        password_hash=await hash_password(password),
        group=group.strip(),
        lang=lang,
        created_at=time.time(),
    )
    await store.accounts.add_user(user)
    return user


async def login(
    *, store: Store, settings: Settings, username: str, password: str, address: str
) -> LoginResult:
    """Check a password under per-user and per-address throttling; start a session."""
    now = time.time()
    window = settings.login_failure_window_s
    user_key, address_key = f"user:{username}", f"addr:{address}"
    if (
        await store.accounts.login_failures(user_key, now=now, window_s=window)
        >= settings.login_max_failures_per_user
        or await store.accounts.login_failures(address_key, now=now, window_s=window)
        >= settings.login_max_failures_per_address
    ):
        raise TooManyRequests("too many failed logins; try again later")
    user = await store.accounts.get_user(username) if username else None
    matches = await _password_matches(
        user.password_hash if user else _UNKNOWN_USER_HASH, password[:MAX_PASSWORD_CHARS]
    )
    if user is None or user.disabled or not matches:
        await store.accounts.note_login_failure(user_key, now=now, window_s=window)
        await store.accounts.note_login_failure(address_key, now=now, window_s=window)
        raise BadCredentials()
    await store.accounts.clear_login_failures(user_key)
    if _hasher.check_needs_rehash(user.password_hash):
        # The password was accepted when it was set: today's length rules do not apply here.
        await store.accounts.update_user(user.name, password_hash=await _hash(password))
    token = secrets.token_urlsafe(32)
    session = Session(
        token_hash=token_hash(token),
        user=user.name,
        created_at=now,
        expires_at=now + settings.session_ttl_s,
    )
    await store.accounts.add_session(session)
    return LoginResult(token=token, user=user, session=session)


async def logout(*, store: Store, token: str) -> None:
    await store.accounts.delete_session(token_hash(token))


async def authenticate(*, store: Store, token: str | None) -> User:
    """The user a session token belongs to; NotLoggedIn when it is missing, expired or disabled."""
    if not token:
        raise NotLoggedIn()
    user = await store.accounts.session_user(token_hash(token), now=time.time())
    if user is None or user.disabled:
        raise NotLoggedIn()
    return user


async def session_still_valid(*, store: Store, token: str | None, user: User) -> bool:
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
    store: Store,
    name: str,
    role: Role | None = None,
    group: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Set a user's role, group or state; a new role or group ends their sessions (what they
    may see changed), as disabling does."""
    before = await store.accounts.get_user(name)
    user = await store.accounts.update_user(
        name, role=None if role is None else int(role), group=group, disabled=disabled
    )
    if before is not None and (before.role, before.group) != (user.role, user.group):
        await store.accounts.delete_user_sessions(name)
    return user


async def change_password(*, store: Store, name: str, password: str) -> User:
    user = await store.accounts.update_user(name, password_hash=await hash_password(password))
    await store.accounts.delete_user_sessions(name)
    return user


async def disable_user(*, store: Store, name: str) -> User:
    user = await store.accounts.update_user(name, disabled=True)
    await store.accounts.delete_user_sessions(name)
    return user
