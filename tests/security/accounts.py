"""Accounts and login-counter rows for the security tests, straight from each store."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from typing import Any

import httpx
from pymongo import MongoClient

from taskdash.actions import accounts
from taskdash.domain.models import Role, User
from taskdash.settings import Settings
from taskdash.store import sqlite_path
from tests.support import PASSWORD, run_on_store


@functools.cache
def password_hash() -> str:
    return asyncio.run(accounts.hash_password(PASSWORD))


def add_users(settings: Settings, *users: tuple[str, str]) -> None:
    """Create (name, role) accounts with PASSWORD, hashing it once (argon2 is slow)."""
    hashed = password_hash()

    async def add(store: Any) -> None:
        for name, role in users:
            await store.accounts.add_user(
                User(name, Role.parse(role), hashed, created_at=time.time())
            )

    run_on_store(settings, add)


def failure_keys(settings: Settings) -> list[str]:
    """Every key in the login-failures table, read without TaskDash's code."""
    url = settings.store_url
    if url.startswith("sqlite:"):
        with sqlite3.connect(sqlite_path(url)) as conn:
            return [row[0] for row in conn.execute("SELECT key FROM login_failures")]
    with MongoClient(url) as client:
        return [doc["_id"] for doc in client.get_default_database().login_failures.find()]


def user_names(settings: Settings) -> list[str]:
    users = run_on_store(settings, lambda store: store.accounts.list_users())
    return sorted(user.name for user in users)


def api_login(
    client: httpx.Client, name: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    return client.post(
        "/api/v1/login", json={"username": name, "password": password}, headers=headers
    )


def from_address(base_url: str, address: str) -> httpx.Client:
    """A client whose connections come from `address` (127.0.0.0/8 is all loopback)."""
    return httpx.Client(
        base_url=base_url, timeout=30, transport=httpx.HTTPTransport(local_address=address)
    )
