"""Each backend implements every part of the store port.

mypy checks `port_parts` (pyproject lists this file): each field's type is a part of the port and
each value what both backends give for it. The test checks the same names at run time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import get_type_hints

import pytest

from taskdash.domain.ports import (
    CursorRepo,
    DeadLetterReads,
    DeadLetterWrites,
    LeaseRepo,
    LoginAttemptRepo,
    MetadataRepo,
    ServiceReads,
    ServiceWrites,
    SessionRepo,
    Store,
    StoreContents,
    TaskClaims,
    TaskHistory,
    TaskReads,
    TaskWrites,
    UserRepo,
)
from taskdash.store import open_store
from taskdash.store.mongo import MongoStore
from taskdash.store.sqlite import SqliteStore


@dataclass(frozen=True, slots=True)
class PortParts:
    """A backend seen as each part of the port in turn."""

    store: Store
    task_writes: TaskWrites
    task_claims: TaskClaims
    task_reads: TaskReads
    task_history: TaskHistory
    service_writes: ServiceWrites
    service_reads: ServiceReads
    users: UserRepo
    sessions: SessionRepo
    login_attempts: LoginAttemptRepo
    metadata: MetadataRepo
    leases: LeaseRepo
    cursors: CursorRepo
    dead_letter_writes: DeadLetterWrites
    dead_letter_reads: DeadLetterReads
    contents: StoreContents


def port_parts(store: SqliteStore | MongoStore) -> PortParts:
    return PortParts(
        store=store,
        task_writes=store.tasks,
        task_claims=store.tasks,
        task_reads=store.tasks,
        task_history=store.tasks,
        service_writes=store.services,
        service_reads=store.services,
        users=store.accounts,
        sessions=store.accounts,
        login_attempts=store.accounts,
        metadata=store.metadata,
        leases=store.coordination,
        cursors=store.coordination,
        dead_letter_writes=store.dead_letters,
        dead_letter_reads=store.dead_letters,
        contents=store.contents,
    )


@pytest.fixture(params=["sqlite", "mongo"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqliteStore | MongoStore]:
    if request.param == "mongo":
        url = request.getfixturevalue("mongo_url")
    else:
        url = f"sqlite:///{tmp_path / 'port.db'}"
    opened = await open_store(url)
    assert isinstance(opened, SqliteStore | MongoStore)
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_each_backend_implements_each_part_of_the_port(
    backend: SqliteStore | MongoStore,
) -> None:
    parts = port_parts(backend)
    hints = get_type_hints(PortParts)
    missing = [
        field.name
        for field in fields(parts)
        if not isinstance(getattr(parts, field.name), hints[field.name])
    ]
    assert missing == []
