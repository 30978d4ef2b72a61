"""List cursors: where the next page of a task list starts, in the order it was read."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from taskdash.domain.errors import BadRequest
from taskdash.domain.task_sorts import DEFAULT_SORT, SORTS


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def encode_cursor(key: tuple[Any, ...], *, sort: str = DEFAULT_SORT) -> str:
    """A cursor past a task whose sort key (task_sorts.sort_key) is `key`, in order `sort`."""
    if sort == DEFAULT_SORT:
        time, task_id = key
        return _b64(f"{time}:{task_id}")
    return _b64(json.dumps([sort, *key], ensure_ascii=False, separators=(",", ":")))


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CURSOR_TIME = re.compile(r"-?[0-9]{1,19}")
_NOT_OURS = "cursor is not one this API gave"
_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "time": (int,),
    "updated_at": (float, int),
    "status": (str,),
    "user": (str,),
}


def decode_cursor(cursor: str, *, sort: str = DEFAULT_SORT) -> tuple[Any, ...]:
    """The sort key a cursor from `encode_cursor` holds; BadRequest for anything else,
    including a cursor of another order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest(_NOT_OURS) from None
    if raw.startswith("["):
        return _decode_sorted(raw, sort)
    if sort != DEFAULT_SORT:
        raise BadRequest(f"this cursor is of another order than sort={sort}")
    time, _, task_id = raw.partition(":")
    # CreateTime is an int64 in both stores: a bigger number cannot be compared with it.
    if not _CURSOR_TIME.fullmatch(time) or not INT64_MIN <= int(time) <= INT64_MAX:
        raise BadRequest(_NOT_OURS)
    return int(time), task_id


def _decode_sorted(raw: str, sort: str) -> tuple[Any, ...]:
    try:
        name, *key = json.loads(raw)
    except (ValueError, TypeError):
        raise BadRequest(_NOT_OURS) from None
    if name not in SORTS:
        raise BadRequest(_NOT_OURS)
    if name != sort:
        raise BadRequest(f"this cursor is of sort={name}, not sort={sort}")
    fields = (*SORTS[name], "_id")
    if len(key) != len(fields) or not all(
        isinstance(value, _VALUE_TYPES.get(field, (str,))) and not isinstance(value, bool)
        for field, value in zip(fields, key, strict=True)
    ):
        raise BadRequest(_NOT_OURS)
    if "time" in fields and not INT64_MIN <= key[fields.index("time")] <= INT64_MAX:
        raise BadRequest(_NOT_OURS)
    return tuple(key)
