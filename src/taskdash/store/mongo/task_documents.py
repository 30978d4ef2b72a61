"""Tasks as MongoDB documents (the seed's bson names) and list queries as filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson.int64 import Int64

from taskdash.domain.models import CLAIMED, StatusSource, Task, TaskQuery
from taskdash.domain.rules import OPTIONAL_FIELDS
from taskdash.domain.task_record import TASK_FIELDS, FieldKind
from taskdash.store.mongo.client import Document

# How a kind of field differs in a document from the Task (kinds not named are the same).
_TO_BSON: dict[FieldKind, Callable[[Any], Any]] = {
    FieldKind.INT64: Int64,
    FieldKind.STATUS_SOURCE: int,
}
_FROM_BSON: dict[FieldKind, Callable[[Any], Any]] = {
    FieldKind.INT64: int,
    FieldKind.INT: int,
    FieldKind.FLOAT: float,
    FieldKind.STATUS_SOURCE: StatusSource,
}
# A document written before fields were tracked one by one had them all as of fields_ts.
_AS_OF_FIELDS_TS = tuple(ts_name for _, ts_name in OPTIONAL_FIELDS)
_ENCODED = tuple((f.attr, f.stored, _TO_BSON.get(f.kind)) for f in TASK_FIELDS)
_DECODED = tuple((f.attr, f.stored, _FROM_BSON.get(f.kind)) for f in TASK_FIELDS)


def task_to_document(task: Task) -> Document:
    """The stored document; `time` is an int64 as in the seed's TaskManagement."""
    doc: Document = {}
    for attr, stored, to_bson in _ENCODED:
        value = getattr(task, attr)
        doc[stored] = value if to_bson is None else to_bson(value)
    return doc


def document_to_task(doc: Document) -> Task:
    """The task a document holds; a key it lacks takes the Task's default."""
    values: dict[str, Any] = {}
    for attr, stored, from_bson in _DECODED:
        if stored in doc:
            value = doc[stored]
            values[attr] = value if from_bson is None else from_bson(value)
    for ts_name in _AS_OF_FIELDS_TS:
        values.setdefault(ts_name, values.get("fields_ts", 0))
    return Task(**values)


def changed_fields(before: Task, after: Task) -> Document:
    """The fields of `after` that differ from `before`, for a `$set`."""
    old, new = task_to_document(before), task_to_document(after)
    return {key: value for key, value in new.items() if key != "_id" and old[key] != value}


def list_filter(query: TaskQuery) -> Document:
    """The filter of one page of `query` (equalities, then the keyset bound on (time, _id))."""
    found: Document = dict(query.equalities())
    extra: list[Document] = []
    if query.groups is not None:
        in_groups = {"$in": list(query.groups)}
        if "group" in found:
            extra.append({"group": in_groups})
        else:
            found["group"] = in_groups
    origin: dict[str, Any] = {}
    if query.origins is not None:
        origin["$in"] = list(query.origins)
    if query.exclude_origins:
        origin["$nin"] = list(query.exclude_origins)
    if origin:
        found["origin"] = origin
    if query.claimed_before is not None:
        if "status" in found:
            extra.append({"status": CLAIMED})
        else:
            found["status"] = CLAIMED
        found["claimed_at"] = {"$lt": query.claimed_before}
    if query.after is not None:
        time, task_id = query.after
        # A range on `time` bounds the index scan; the $nor drops the ties already seen.
        if query.newest_first:
            found["time"] = {"$lte": time}
            extra.append({"$nor": [{"time": time, "_id": {"$gte": task_id}}]})
        else:
            found["time"] = {"$gte": time}
            extra.append({"$nor": [{"time": time, "_id": {"$lte": task_id}}]})
    if extra:
        found["$and"] = extra
    return found


def list_sort(query: TaskQuery) -> list[tuple[str, Any]]:
    direction = -1 if query.newest_first else 1
    return [("time", direction), ("_id", direction)]
