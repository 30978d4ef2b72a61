"""The MongoDB store (production and scale-out shapes): `mongodb://host:port/dbname`."""

from __future__ import annotations

from pymongo.errors import PyMongoError

from taskdash.domain.errors import StoreWriteError
from taskdash.store.mongo.accounts import MongoAccountRepo, ensure_user_name_keys
from taskdash.store.mongo.activity import MongoActivity
from taskdash.store.mongo.activity_rebuild import ensure_rollups
from taskdash.store.mongo.client import connect, driver_reason, reading
from taskdash.store.mongo.contents import MongoContents
from taskdash.store.mongo.coordination import MongoCoordinationRepo
from taskdash.store.mongo.dead_letters import MongoDeadLetterRepo
from taskdash.store.mongo.indexes import ensure_indexes
from taskdash.store.mongo.metadata import MongoMetadataRepo
from taskdash.store.mongo.services import MongoServiceRepo
from taskdash.store.mongo.task_counts import MongoTaskCounts
from taskdash.store.mongo.tasks import MongoTaskRepo


class MongoStore:
    """The Store port on one MongoDB database."""

    def __init__(self, url: str, database: str) -> None:
        self.url = url
        self._client = connect(url)
        self._db = self._client[database]
        self.task_counts = MongoTaskCounts(self._db)
        self.tasks = MongoTaskRepo(self._db, counts=self.task_counts)
        self.services = MongoServiceRepo(self._db)
        self.accounts = MongoAccountRepo(self._db)
        self.dead_letters = MongoDeadLetterRepo(self._db)
        self.coordination = MongoCoordinationRepo(self._db)
        self.metadata = MongoMetadataRepo(self._db)
        self.contents = MongoContents(self._db)
        self.activity = MongoActivity(self._db)

    async def open(self) -> None:
        """Create the indexes, ready the history, bound old dead letters; a down server stops it."""
        try:
            await ensure_user_name_keys(self._db)
            await ensure_indexes(self._db)
            await self.tasks.prepare()
            await self.services.prepare()
            await ensure_rollups(self._db, self.activity)
        except PyMongoError as exc:
            await self._client.close()
            raise StoreWriteError(f"mongodb: cannot create indexes: {driver_reason(exc)}") from exc
        try:
            await self.dead_letters.bound_old_letters()
        except BaseException:
            await self._client.close()
            raise
        self.task_counts.start_repairs(leases=self.coordination)

    async def ping(self) -> None:
        with reading():
            await self._db.command("ping")

    async def aclose(self) -> None:
        await self.task_counts.aclose()
        await self._client.close()

    async def __aenter__(self) -> MongoStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
