"""The task events topic's payload: a TaskEvent as JSON (also each live `event: task`), and back."""

from __future__ import annotations

import json

from taskdash.domain.models import TaskEvent


def event_json(event: TaskEvent) -> bytes:
    return json.dumps(
        {
            "seq": event.seq,
            "task_id": event.task_id,
            "action": event.action,
            "actor": event.actor,
            "at": event.at,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "from_user": event.from_user,
            "to_user": event.to_user,
            "detail": event.detail,
        },
        ensure_ascii=False,
    ).encode()


def event_from_json(body: bytes) -> TaskEvent:
    """A task event as `event_json` wrote it; ValueError when it is not one."""
    raw = json.loads(body)
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    names = ("task_id", "actor", "action", "from_status", "to_status", "from_user", "to_user")
    text = {name: raw.get(name, "") for name in (*names, "detail")}
    if not all(isinstance(value, str) for value in text.values()) or not text["task_id"]:
        raise ValueError("bad task event fields")
    at, seq = raw.get("at"), raw.get("seq", 0)
    if isinstance(at, bool) or not isinstance(at, int | float) or not isinstance(seq, int):
        raise ValueError("bad task event time")
    return TaskEvent(at=float(at), seq=seq, **text)
