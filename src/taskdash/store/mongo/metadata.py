"""MongoDB copy of what each service reported in its last metadata pull (`task_metadata`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bson.int64 import Int64
from pymongo import UpdateOne

from taskdash.domain.events import TaskMessage
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing


def _overlay(earlier: TaskMessage, later: TaskMessage) -> TaskMessage:
    """`later`, with what it leaves out taken from `earlier`."""
    return replace(
        later,
        url=earlier.url if later.url is None else later.url,
        create_time=earlier.create_time if later.create_time is None else later.create_time,
        reserved=earlier.reserved if later.reserved is None else later.reserved,
    )


def _upsert(r: TaskMessage, *, service: str, now: float) -> UpdateOne:
    """Set what the record carries; a key it leaves out keeps the stored value (or starts empty)."""
    carried: Document = {"url": r.url, "reserved": r.reserved}
    carried["time"] = None if r.create_time is None else Int64(r.create_time)
    defaults: Document = {"url": "", "time": Int64(0), "reserved": ""}
    update: Document = {
        "$set": {
            "project_id": r.project_id,
            "instance_id": r.instance_id,
            "task_id": r.task_id,
            "type": r.task_type,
            "status": r.status,
            "service": service,
            "fetched_at": now,
            **{key: value for key, value in carried.items() if value is not None},
        }
    }
    left_out = {key: defaults[key] for key, value in carried.items() if value is None}
    if left_out:  # an empty operator is an error on older servers
        update["$setOnInsert"] = left_out
    return UpdateOne({"_id": r.id}, update, upsert=True)


class MongoMetadataRepo:
    def __init__(self, db: Database) -> None:
        self._metadata: Collection = db.task_metadata

    async def save(self, *, records: Sequence[TaskMessage], service: str, now: float) -> None:
        latest: dict[str, TaskMessage] = {}
        for record in records:  # of one task reported twice, the later one wins
            earlier = latest.get(record.id)
            latest[record.id] = record if earlier is None else _overlay(earlier, record)
        ops: list[UpdateOne] = [_upsert(r, service=service, now=now) for r in latest.values()]
        if ops:
            with writing():
                await self._metadata.bulk_write(ops, ordered=False)

    async def count(self, *, service: str) -> int:
        with reading():
            return await self._metadata.count_documents({"service": service})
