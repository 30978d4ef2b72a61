"""Fixtures of the MongoDB-only store tests: a store on its database, and that database raw."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo.database import Database

from taskdash.domain.ports import Store
from taskdash.store import mongodb_database, open_store
from tests.ferretdb import FerretDb


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[Store]:
    opened = await open_store(mongo_url)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
def raw(ferretdb: FerretDb, mongo_url: str) -> Iterator[Database[dict[str, Any]]]:
    """The test's database through a plain pymongo client, as another program would read it."""
    with ferretdb.client() as client:
        yield client[mongodb_database(mongo_url)]
