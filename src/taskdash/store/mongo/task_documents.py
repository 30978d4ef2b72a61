"""Tasks as MongoDB documents (the seed's bson names) and list queries as filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson.int64 import Int64

from taskdash.domain.models import CLAIMED, StatusSource, Task, TaskQuery
from taskdash.domain.rules import OPTIONAL_FIELDS
from taskdash.domain.task_record import TASK_FIELDS, FieldKind
from taskdash.domain.task_sorts import page_order
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
    keys, after = page_order(query)
    if after is not None:
        first, bound, seen = _after(keys, after, newest_first=query.newest_first)
        if first in found:  # an equality on it already (a status sort of one status)
            extra.append({first: bound})
        else:
            found[first] = bound
        extra.append(seen)
    if extra:
        found["$and"] = extra
    return found


def _after(
    keys: tuple[str, ...], values: tuple[Any, ...], *, newest_first: bool
) -> tuple[str, Document, Document]:
    """The keyset bound past `values` of `keys`: the first key's range (which bounds the index
    scan), and a $nor that drops the ties already seen."""
    reach = "$lte" if newest_first else "$gte"
    # Seen: tied on the keys before, and on this one before the cursor (at it, for the ID).
    before, at_or_before = ("$gt", "$gte") if newest_first else ("$lt", "$lte")
    seen = [
        {
            **dict(zip(keys[:index], values[:index], strict=True)),
            keys[index]: {at_or_before if index == len(keys) - 1 else before: values[index]},
        }
        for index in range(1, len(keys))
    ]
    return keys[0], {reach: values[0]}, {"$nor": seen}


def list_sort(query: TaskQuery) -> list[tuple[str, Any]]:
    direction = -1 if query.newest_first else 1
    return [(key, direction) for key in page_order(query)[0]]
