"""The MongoDB connection: one AsyncMongoClient per store, and driver errors mapped at the boundary.

Short server-selection and connect timeouts make a request answer 1001/1002 within seconds when
the server is down; the client keeps monitoring the server and reconnects by itself when it
returns, so no restart is needed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from taskdash.domain.errors import StoreReadError, StoreWriteError
from taskdash.metrics import STORE_ERRORS, STORE_WRITE_SECONDS

logger = logging.getLogger(__name__)

Document = dict[str, Any]
Collection = AsyncCollection[Document]
Database = AsyncDatabase[Document]

DUPLICATE_KEY = 11000


def duplicate_key_indexes(exc: BulkWriteError) -> list[int]:
    """The positions of the writes a bulk write refused as duplicate keys; any other error
    (or a write concern error) is raised again."""
    details = exc.details
    errors = details.get("writeErrors", [])
    if details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in errors):
        raise exc
    return [int(e["index"]) for e in errors]


# Defaults an operator can still override in the URL's query string.
CLIENT_DEFAULTS: dict[str, Any] = {
    "serverSelectionTimeoutMS": 2_000,
    "connectTimeoutMS": 2_000,
    "socketTimeoutMS": 10_000,
    "appname": "taskdash",
}
# The driver's text names internal host:ports and the topology: the operator reads it in the
# log (at most once per interval and kind), a client reads only `client_detail`.
WARN_INTERVAL_S = 30.0
_last_warned: dict[str, float] = {}


def driver_reason(exc: PyMongoError) -> str:
    """The driver's message without its timeouts, topology description or server reply."""
    text = str(exc)
    for cut in (" (configured timeouts", ", Timeout:", ", full error:"):
        text = text.split(cut)[0]
    return text


def client_detail(exc: PyMongoError) -> str:
    """What an API client may read about a driver error."""
    if isinstance(exc, ConnectionFailure):
        return "mongodb: store unavailable"
    return f"mongodb: {type(exc).__name__}"


def report(exc: PyMongoError) -> str:
    """Log the driver error for the operator (throttled); the detail for the client."""
    kind = type(exc).__name__
    now = time.monotonic()
    if now - _last_warned.get(kind, -WARN_INTERVAL_S) >= WARN_INTERVAL_S:
        _last_warned[kind] = now
        logger.warning("mongodb: %s", driver_reason(exc))
    return client_detail(exc)


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
        STORE_ERRORS.labels("read").inc()
        raise StoreReadError(report(exc)) from exc


@contextmanager
def writing() -> Iterator[None]:
    """Map any driver error raised inside the block to StoreWriteError (1001)."""
    try:
        with STORE_WRITE_SECONDS.time():
            yield
    except PyMongoError as exc:
        STORE_ERRORS.labels("write").inc()
        raise StoreWriteError(report(exc)) from exc
