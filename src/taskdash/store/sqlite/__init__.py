"""The embedded SQLite store (the default backend)."""

from __future__ import annotations

from taskdash.domain.errors import StoreReadError
from taskdash.store.sqlite.accounts import SqliteAccountRepo
from taskdash.store.sqlite.activity import SqliteActivityStats
from taskdash.store.sqlite.contents import SqliteContents
from taskdash.store.sqlite.coordination import SqliteCoordinationRepo
from taskdash.store.sqlite.db import SqliteDb
from taskdash.store.sqlite.dead_letters import SqliteDeadLetterRepo
from taskdash.store.sqlite.metadata import SqliteMetadataRepo
from taskdash.store.sqlite.schema import migrate
from taskdash.store.sqlite.services import SqliteServiceRepo
from taskdash.store.sqlite.task_counts import SqliteTaskCounts
from taskdash.store.sqlite.tasks import SqliteTaskRepo


class SqliteStore:
    """The Store port on one SQLite file."""

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        self.path = path
        self._db = SqliteDb(path)
        self.tasks = SqliteTaskRepo(self._db)
        self.services = SqliteServiceRepo(self._db)
        self.accounts = SqliteAccountRepo(self._db)
        self.dead_letters = SqliteDeadLetterRepo(self._db)
        self.coordination = SqliteCoordinationRepo(self._db)
        self.metadata = SqliteMetadataRepo(self._db)
        self.contents = SqliteContents(self._db)
        self.activity = SqliteActivityStats(self._db)
        self.task_counts = SqliteTaskCounts(self._db)

    def open(self) -> None:
        self._db.run_sync(migrate)
        self._db.start()

    async def ping(self) -> None:
        try:
            await self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())
        except StoreReadError:
            raise
        except Exception as exc:
            raise StoreReadError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._db.aclose()

    async def __aenter__(self) -> SqliteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
