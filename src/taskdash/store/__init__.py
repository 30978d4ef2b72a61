"""Store backends behind the port in taskdash.domain.ports; `open_store` picks one by URL."""

from __future__ import annotations

import asyncio
import sqlite3
from urllib.parse import urlsplit

from taskdash.domain.errors import StoreWriteError
from taskdash.domain.ports import Store
from taskdash.store_urls import MONGODB_SCHEMES, mongodb_database, redact_url, sqlite_path

__all__ = ["MONGODB_SCHEMES", "mongodb_database", "open_store", "redact_url", "sqlite_path"]


async def open_store(url: str) -> Store:
    """Open the store named by `url` (migrating its schema or creating its indexes)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from taskdash.store.sqlite import SqliteStore

        path = sqlite_path(url)
        try:
            store = SqliteStore(url, path)
            await asyncio.to_thread(store.open)
        except (OSError, sqlite3.Error) as exc:
            raise StoreWriteError(f"sqlite: {exc}") from exc
        return store
    if scheme in MONGODB_SCHEMES:
        from taskdash.store.mongo import MongoStore

        mongo = MongoStore(url, mongodb_database(url))
        await mongo.open()
        return mongo
    raise ValueError(f"unsupported store URL scheme {scheme!r} (use sqlite:/// or mongodb://)")
