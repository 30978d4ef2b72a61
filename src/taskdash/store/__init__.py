"""Store backends behind the port in taskdash.domain.ports; `open_store` picks one by URL."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from taskdash.domain.ports import Store


def sqlite_path(url: str) -> str:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db` → a filesystem path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to.db)")
    path = url[len("sqlite:///") :]
    if not path:
        raise ValueError(f"sqlite URL has no path: {url!r}")
    return path


async def open_store(url: str) -> Store:
    """Open the store named by `url` (migrating its schema); close it with `aclose()`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from taskdash.store.sqlite import SqliteStore

        store = SqliteStore(url, sqlite_path(url))
        await asyncio.to_thread(store.open)
        return store
    raise ValueError(f"unsupported store URL scheme {scheme!r} (use sqlite:/// or mongodb://)")
