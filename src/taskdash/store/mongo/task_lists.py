"""MongoDB reads behind the lists' totals, filter suggestions and history export."""

from __future__ import annotations

from collections.abc import Sequence

from taskdash.domain.models import TaskEvent, TaskQuery
from taskdash.store.mongo.client import Database, Document, reading
from taskdash.store.mongo.history import document_to_event
from taskdash.store.mongo.task_counts import MongoTaskCounts
from taskdash.store.mongo.task_documents import list_filter
from taskdash.store.mongo.tasks import MongoTaskRepo


class MongoTasks(MongoTaskRepo):
    """The task repository with the lists' counts, distinct values and history by time."""

    def __init__(self, db: Database, *, counts: MongoTaskCounts | None = None) -> None:
        super().__init__(db, counts=counts)
        self._events = db.task_events

    async def count(self, query: TaskQuery) -> int:
        with reading():
            return int(await self._tasks.count_documents(list_filter(query)))

    async def distinct(self, *, field: str, query: TaskQuery, limit: int) -> list[str]:
        """The first `limit` non-empty values of `field` among tasks matching `query`, sorted."""
        with reading():
            values = await self._tasks.distinct(field, list_filter(query))
        return sorted(v for v in values if isinstance(v, str) and v)[:limit]

    async def events_between(
        self,
        *,
        since: float,
        until: float,
        after: tuple[float, int] | None,
        task_ids: Sequence[str] | None,
        limit: int,
    ) -> list[TaskEvent]:
        """History lines with `since` <= at < `until` by (at, seq), after `after`."""
        found: Document = {"at": {"$gte": since, "$lt": until}}
        if after is not None:
            at, seq = after
            found["at"]["$gte"] = max(since, at)
            found["$nor"] = [{"at": at, "_id": {"$lte": seq}}]
        if task_ids is not None:
            found["task_id"] = {"$in": list(task_ids)}
        cursor = self._events.find(found).sort([("at", 1), ("_id", 1)]).limit(limit)
        with reading():
            return [document_to_event(doc) for doc in await cursor.to_list()]
