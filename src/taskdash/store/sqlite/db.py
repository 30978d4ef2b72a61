"""SQLite plumbing: one writer thread with group commit, a pool of reader threads.

Writes queue up; the writer takes everything waiting, runs each in its own savepoint inside one
`BEGIN IMMEDIATE` transaction and commits once (WAL, synchronous=FULL: durable at commit). Each
caller is answered only after that commit, so a batch pays one fsync, never an early ack.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from taskdash.domain.errors import StoreReadError, StoreWriteError, TaskDashError
from taskdash.log_limits import RepeatedLog
from taskdash.metrics import STORE_ERRORS, STORE_WRITE_SECONDS

logger = logging.getLogger(__name__)
repeated = RepeatedLog(logger)

T = TypeVar("T")
MAX_WRITES_PER_COMMIT = 512
BUSY_TIMEOUT_MS = 10_000
READER_THREADS = 2


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with TaskDash's pragmas; autocommit so transactions are explicit."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    else:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    return conn


class _Write:
    __slots__ = ("fn", "future", "loop")

    def __init__(
        self,
        fn: Callable[[sqlite3.Connection], Any],
        future: asyncio.Future[Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.fn, self.future, self.loop = fn, future, loop


def _settle(write: _Write, result: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if write.future.done():
            return
        if error is not None:
            write.future.set_exception(error)
        else:
            write.future.set_result(result)

    write.loop.call_soon_threadsafe(settle)


def _write_error(exc: sqlite3.Error) -> StoreWriteError:
    error = StoreWriteError(str(exc))
    error.__cause__ = exc
    return error


class SqliteDb:
    """Owns the connections and threads of one SQLite database file."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._writes: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer_conn = connect(path)
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-writer", daemon=True)
        self._local = threading.local()
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._lookup_conn: sqlite3.Connection | None = None
        self._closed = False

    def start(self) -> None:
        self._writer.start()

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the writer connection before the writer thread starts (migrations)."""
        return fn(self._writer_conn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in a write transaction; returns once it is committed and durable."""
        if self._closed:
            raise StoreWriteError("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._writes.put(_Write(fn, future, loop))
        return await future

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on a reader connection (a consistent WAL snapshot per statement)."""
        if self._closed:
            raise StoreReadError("store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._readers, self._read_in_thread, fn)
        except sqlite3.Error as exc:
            STORE_ERRORS.labels("read").inc()
            raise StoreReadError(str(exc)) from exc

    def lookup(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a bounded point read (a primary-key lookup, a tiny table) on the caller's thread.

        Handing a read to a reader thread costs two thread switches and a GIL hand-off, several
        times what a lookup by key costs in SQLite (microseconds; WAL readers never wait for the
        writer). Never use it for a read whose cost grows with the data: that blocks the loop.
        """
        if self._closed:
            raise StoreReadError("store is closed")
        if self._lookup_conn is None:
            self._lookup_conn = connect(self.path, readonly=True)
        try:
            return fn(self._lookup_conn)
        except sqlite3.Error as exc:
            STORE_ERRORS.labels("read").inc()
            raise StoreReadError(str(exc)) from exc

    def _read_in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return fn(conn)

    def _write_loop(self) -> None:
        while True:
            first = self._writes.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_WRITES_PER_COMMIT:
                try:
                    item = self._writes.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._writes.put(None)
                    break
                batch.append(item)
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Write]) -> None:
        with STORE_WRITE_SECONDS.time():
            self._commit_batch_timed(batch)

    def _commit_batch_timed(self, batch: list[_Write]) -> None:
        conn = self._writer_conn
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for write in batch:
                outcomes.append(self._run_in_savepoint(conn, write))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            STORE_ERRORS.labels("write").inc()
            repeated.warning("write", "sqlite: write transaction failed: %s", exc)
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    logger.exception("sqlite: rollback failed")
            for write in batch:
                _settle(write, None, StoreWriteError(str(exc)))
            return
        for write, (result, error) in zip(batch, outcomes, strict=True):
            _settle(write, result, error)

    @staticmethod
    def _run_in_savepoint(conn: sqlite3.Connection, write: _Write) -> tuple[Any, Exception | None]:
        """Run one write; its failure undoes only its own changes and goes to its caller."""
        conn.execute("SAVEPOINT w")
        try:
            result = write.fn(conn)
            if isinstance(result, sqlite3.Cursor):
                # A cursor must not reach the event loop: freeing it there would reset a
                # statement of this connection while this thread is using it.
                result.close()
                result = None
        except sqlite3.DatabaseError as exc:
            if not isinstance(exc, sqlite3.IntegrityError):
                raise  # disk full, I/O error, locked: the whole transaction is in doubt
            conn.execute("ROLLBACK TO w")
            conn.execute("RELEASE w")
            return None, _write_error(exc)
        except Exception as exc:
            conn.execute("ROLLBACK TO w")
            conn.execute("RELEASE w")
            if isinstance(exc, sqlite3.Error):
                return None, _write_error(exc)
            if not isinstance(exc, TaskDashError | ValueError):
                logger.exception("sqlite: write failed")
            return None, exc
        conn.execute("RELEASE w")
        return result, None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writes.put(None)
        await asyncio.to_thread(self._writer.join)
        self._readers.shutdown(wait=True)
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
        if self._lookup_conn is not None:
            self._lookup_conn.close()
        self._writer_conn.close()
