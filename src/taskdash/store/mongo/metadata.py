"""MongoDB copy of what each service reported in its last metadata pull (`task_metadata`)."""

from __future__ import annotations

from collections.abc import Sequence

from bson.int64 import Int64
from pymongo import ReplaceOne

from taskdash.domain.events import TaskMessage
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing


class MongoMetadataRepo:
    def __init__(self, db: Database) -> None:
        self._metadata: Collection = db.task_metadata

    async def save(self, records: Sequence[TaskMessage], *, service: str, now: float) -> None:
        latest = {r.id: r for r in records}  # of one task reported twice, the later one wins
        ops: list[ReplaceOne[Document]] = [
            ReplaceOne(
                {"_id": r.id},
                {
                    "_id": r.id,
                    "project_id": r.project_id,
                    "instance_id": r.instance_id,
                    "task_id": r.task_id,
                    "type": r.task_type,
                    "url": r.url,
                    "status": r.status,
                    "time": Int64(r.create_time),
                    "reserved": r.reserved or "",
                    "service": service,
                    "fetched_at": now,
                },
                upsert=True,
            )
            for r in latest.values()
        ]
        if ops:
            with writing():
                await self._metadata.bulk_write(ops, ordered=False)

    async def count(self, *, service: str) -> int:
        with reading():
            return await self._metadata.count_documents({"service": service})
