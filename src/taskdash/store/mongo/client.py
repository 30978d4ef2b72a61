"""The MongoDB connection: one AsyncMongoClient per store, and driver errors mapped at the boundary.

Short server-selection and connect timeouts make a request answer 1001/1002 within seconds when
the server is down; the client keeps monitoring the server and reconnects by itself when it
returns, so no restart is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from taskdash.domain.errors import StoreReadError, StoreWriteError

Document = dict[str, Any]
Collection = AsyncCollection[Document]
Database = AsyncDatabase[Document]

# Defaults an operator can still override in the URL's query string.
CLIENT_DEFAULTS: dict[str, Any] = {
    "serverSelectionTimeoutMS": 2_000,
    "connectTimeoutMS": 2_000,
    "socketTimeoutMS": 10_000,
    "appname": "taskdash",
}


def connect(url: str) -> AsyncMongoClient[Document]:
    """A client for `url`; it connects lazily, so this never blocks or fails on a down server."""
    given = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
    options = {key: value for key, value in CLIENT_DEFAULTS.items() if key.lower() not in given}
    return AsyncMongoClient(url, tz_aware=False, connect=False, **options)


@contextmanager
def reading() -> Iterator[None]:
    """Map any driver error raised inside the block to StoreReadError (1002)."""
    try:
        yield
    except PyMongoError as exc:
        raise StoreReadError(f"mongodb: {exc}") from exc


@contextmanager
def writing() -> Iterator[None]:
    """Map any driver error raised inside the block to StoreWriteError (1001)."""
    try:
        yield
    except PyMongoError as exc:
        raise StoreWriteError(f"mongodb: {exc}") from exc
