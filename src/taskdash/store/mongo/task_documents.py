"""Tasks as MongoDB documents (the seed's bson names) and list queries as filters."""

from __future__ import annotations

from typing import Any

from bson.int64 import Int64

from taskdash.domain.models import StatusSource, Task, TaskQuery
from taskdash.store.mongo.client import Document


def task_to_document(task: Task) -> Document:
    """The stored document; `time` is an int64 as in the seed's TaskManagement."""
    return {
        "_id": task.id,
        "project_id": task.project_id,
        "instance_id": task.instance_id,
        "task_id": task.task_id,
        "type": task.type,
        "url": task.url,
        "status": task.status,
        "time": Int64(task.time),
        "user": task.user,
        "checker": task.checker,
        "group": task.group,
        "reserved": task.reserved,
        "edit_info": task.edit_info,
        "claimed_at": task.claimed_at,
        "updated_at": task.updated_at,
        "status_ts": Int64(task.status_ts),
        "status_src": int(task.status_src),
        "fields_ts": Int64(task.fields_ts),
        "rev": task.rev,
        "origin": task.origin,
        "url_ts": Int64(task.url_ts),
        "edit_info_ts": Int64(task.edit_info_ts),
        "time_ts": Int64(task.time_ts),
        "reserved_ts": Int64(task.reserved_ts),
    }


def document_to_task(doc: Document) -> Task:
    # A document written before fields were tracked one by one had them all as of fields_ts.
    fields_ts = int(doc.get("fields_ts", 0))
    return Task(
        id=doc["_id"],
        project_id=doc["project_id"],
        instance_id=doc["instance_id"],
        task_id=doc["task_id"],
        type=doc["type"],
        url=doc.get("url", ""),
        status=doc["status"],
        time=int(doc.get("time", 0)),
        user=doc.get("user", ""),
        checker=doc.get("checker", ""),
        group=doc.get("group", ""),
        reserved=doc.get("reserved", ""),
        edit_info=doc.get("edit_info", ""),
        origin=doc.get("origin", ""),
        claimed_at=doc.get("claimed_at"),
        updated_at=float(doc.get("updated_at", 0.0)),
        status_ts=int(doc.get("status_ts", 0)),
        status_src=StatusSource(doc.get("status_src", StatusSource.REGISTER)),
        fields_ts=fields_ts,
        rev=int(doc.get("rev", 0)),
        url_ts=int(doc.get("url_ts", fields_ts)),
        edit_info_ts=int(doc.get("edit_info_ts", fields_ts)),
        time_ts=int(doc.get("time_ts", fields_ts)),
        reserved_ts=int(doc.get("reserved_ts", fields_ts)),
    )


def changed_fields(before: Task, after: Task) -> Document:
    """The fields of `after` that differ from `before`, for a `$set`."""
    old, new = task_to_document(before), task_to_document(after)
    return {key: value for key, value in new.items() if key != "_id" and old[key] != value}


def list_filter(query: TaskQuery) -> Document:
    """The filter of one page of `query` (equalities, then the keyset bound on (time, _id))."""
    found: Document = {}
    for field, value in (
        ("status", query.status),
        ("user", query.user),
        ("checker", query.checker),
        ("group", query.group),
        ("type", query.type),
        ("project_id", query.project_id),
    ):
        if value is not None:
            found[field] = value
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
