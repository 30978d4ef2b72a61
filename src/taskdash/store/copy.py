"""`taskdash store copy`: everything one store holds, copied into another batch by batch.

Every batch is an upsert by each record's own key (task history by seq, so its order and
numbers survive), which makes a copy safe to re-run: one that stopped half-way is finished by
running it again. Into a target that already holds records (`overwrite`), the target is read
alongside the source in key order and only records that are new or differ are written, so a
re-run of a finished copy writes nothing. Leases and login throttling are not copied.

Copy a quiet store: records written to the source during the copy may or may not be in it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from taskdash.domain.errors import BadRequest
from taskdash.domain.models import DeadLetter
from taskdash.domain.ports import RecordTable, Store, StoreContents
from taskdash.store import MONGODB_SCHEMES, mongodb_database, open_store, sqlite_path

R = TypeVar("R")

DEFAULT_BATCH_SIZE = 2_000
# One read of a whole collection may take a server (FerretDB) longer than the app's 10 s.
COPY_SOCKET_TIMEOUT_MS = 600_000


class TargetNotEmpty(BadRequest):
    """The target holds records and the copy was not told to overwrite them."""


@dataclass(frozen=True, slots=True)
class Collection(Generic[R]):
    """One kind of record to copy: where it is and what identifies it."""

    name: str
    table: Callable[[StoreContents], RecordTable[R]]
    key: Callable[[R], Any]  # the order of RecordTable.pages(in_key_order=True)
    content: Callable[[R], object] = lambda record: record  # equal content: nothing to write
    in_order: bool = False  # copied in key order even into an empty target


def _dead_letter_content(letter: DeadLetter) -> object:
    return replace(letter, id="")  # the id is each backend's own page cursor


COLLECTIONS: tuple[Collection[Any], ...] = (
    Collection("users", lambda c: c.users, attrgetter("name")),
    Collection("sessions", lambda c: c.sessions, attrgetter("token_hash")),
    Collection("services", lambda c: c.services, attrgetter("url")),
    Collection("heartbeats", lambda c: c.heartbeats, attrgetter("url")),
    Collection("tasks", lambda c: c.tasks, attrgetter("id")),
    Collection("task_metadata", lambda c: c.task_metadata, attrgetter("id")),
    Collection("task_events", lambda c: c.task_events, attrgetter("seq")),
    # In time order, so that a SQLite target numbers them (its list order) by time too.
    Collection(
        "dead_letters",
        lambda c: c.dead_letters,
        attrgetter("at", "key"),
        _dead_letter_content,
        in_order=True,
    ),
    Collection("cursors", lambda c: c.cursors, attrgetter("name")),
)


@dataclass(frozen=True, slots=True)
class CollectionCopy:
    """What copying one collection did."""

    name: str
    read: int
    written: int
    seconds: float

    def summary(self) -> str:
        rate = self.read / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.name}: {self.read} read, {self.written} written"
            f" in {self.seconds:.1f} s ({rate:.0f}/s)"
        )


@dataclass(frozen=True, slots=True)
class CopyProgress:
    """How far the copy of one collection is: at its start, after each batch, and at its end."""

    name: str
    done: int
    total: int  # a MongoDB count is an estimate
    finished: bool = False


OnProgress = Callable[[CopyProgress], None]


def _no_progress(progress: CopyProgress) -> None:
    pass


class _TargetRecords(Generic[R]):
    """The target's records in key order, walked alongside the source's to skip equal ones.

    Only an optimisation: a record it cannot match (keys ordered differently) is written, and
    writing is an upsert.
    """

    def __init__(self, pages: AsyncGenerator[list[R], None], collection: Collection[R]) -> None:
        self._pages = pages
        self._key = collection.key
        self._content = collection.content
        self._buffer: deque[R] = deque()
        self._exhausted = False

    async def _peek(self) -> R | None:
        while not self._buffer and not self._exhausted:
            try:
                self._buffer.extend(await anext(self._pages))
            except StopAsyncIteration:
                self._exhausted = True
        return self._buffer[0] if self._buffer else None

    async def changed(self, page: Sequence[R]) -> list[R]:
        """The records of `page` (in key order) that the target lacks or holds otherwise."""
        changed = []
        for record in page:
            key = self._key(record)
            held = await self._peek()
            while held is not None and self._key(held) < key:
                self._buffer.popleft()
                held = await self._peek()
            if held is not None and self._key(held) == key:
                self._buffer.popleft()
                if self._content(held) == self._content(record):
                    continue
            changed.append(record)
        return changed


async def _copy_collection(
    collection: Collection[R],
    *,
    source: Store,
    target: Store,
    compare: bool,
    batch_size: int,
    on_progress: OnProgress,
) -> CollectionCopy:
    reader = collection.table(source.contents)
    writer = collection.table(target.contents)
    total = await reader.count()
    on_progress(CopyProgress(collection.name, 0, total))
    started = time.perf_counter()
    read = written = 0
    writing: asyncio.Task[int] | None = None
    async with (
        aclosing(
            reader.pages(size=batch_size, in_key_order=compare or collection.in_order)
        ) as pages,
        aclosing(writer.pages(size=batch_size, in_key_order=True)) as held,
    ):
        existing = _TargetRecords(held, collection) if compare else None
        try:
            async for page in pages:
                read += len(page)
                changed = page if existing is None else await existing.changed(page)
                if writing is not None:
                    written += await writing
                # This batch is written while the next one is read.
                writing = asyncio.create_task(writer.put(changed))
                on_progress(CopyProgress(collection.name, read, total))
            if writing is not None:
                written += await writing
        except BaseException:
            if writing is not None:
                writing.cancel()
                await asyncio.gather(writing, return_exceptions=True)
            raise
    on_progress(CopyProgress(collection.name, read, total, finished=True))
    return CollectionCopy(collection.name, read, written, time.perf_counter() - started)


async def copy_store(
    *,
    source_url: str,
    target_url: str,
    overwrite: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: OnProgress = _no_progress,
) -> list[CollectionCopy]:
    """Copy every collection; TargetNotEmpty if the target holds records and not `overwrite`."""
    if batch_size < 1:
        raise BadRequest("the batch size must be at least 1")
    _check_urls(source_url, target_url)
    source = await open_store(_for_copy(source_url))
    try:
        target = await open_store(_for_copy(target_url))
        try:
            held = await _held_counts(target)
            if held and not overwrite:
                counts = ", ".join(f"{name}: {n}" for name, n in held.items())
                raise TargetNotEmpty(
                    f"the target store is not empty ({counts}); pass --overwrite to copy into it"
                )
            return [
                await _copy_collection(
                    collection,
                    source=source,
                    target=target,
                    compare=collection.name in held,
                    batch_size=batch_size,
                    on_progress=on_progress,
                )
                for collection in COLLECTIONS
            ]
        finally:
            await target.aclose()
    finally:
        await source.aclose()


async def _held_counts(store: Store) -> dict[str, int]:
    """The collections of `store` that hold records, with how many."""
    counts = {c.name: await c.table(store.contents).count() for c in COLLECTIONS}
    return {name: n for name, n in counts.items() if n}


def _check_urls(source_url: str, target_url: str) -> None:
    for url in (source_url, target_url):
        if urlsplit(url).scheme in MONGODB_SCHEMES:
            mongodb_database(url)  # ValueError naming the URL as given
    if _store_identity(source_url) == _store_identity(target_url):
        raise BadRequest("the source and the target are the same store")
    if urlsplit(source_url).scheme == "sqlite" and not Path(sqlite_path(source_url)).exists():
        raise BadRequest(f"there is no SQLite store at {sqlite_path(source_url)}")


def _store_identity(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return "sqlite:" + str(Path(sqlite_path(url)).resolve())
    return urlunsplit(parts._replace(query="", fragment=""))


def _for_copy(url: str) -> str:
    """`url` with the copy's socket timeout, unless it sets its own."""
    parts = urlsplit(url)
    options = {key.lower() for key, _ in parse_qsl(parts.query)}
    if parts.scheme not in MONGODB_SCHEMES or "sockettimeoutms" in options:
        return url
    query = "&".join(filter(None, (parts.query, f"socketTimeoutMS={COPY_SOCKET_TIMEOUT_MS}")))
    return urlunsplit(parts._replace(query=query))
