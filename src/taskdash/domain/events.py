"""Typed payloads of the four topics and their parsing with Go encoding/json key semantics.

Every reason a message is refused reads "<where>: <what is wrong>", where is `invalid JSON`,
`body` or `field NAME`; it becomes the dead letter's reason as it is.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from taskdash.domain.canonical_task import INT64_MAX, INT64_MIN, UNSET, decode_canonical_task
from taskdash.domain.errors import InvalidMessage
from taskdash.domain.models import derive_task_id, normalise_service_url, url_origin
from taskdash.domain.task_ids import check_given_task_id

TopicKind = Literal["serviceRegister", "taskRegister", "updateStatus", "heartBeat"]

MAX_BODY_BYTES = 1024 * 1024
MAX_ID_CHARS = 256
MAX_URL_CHARS = 2048
MAX_TEXT_CHARS = 65536
MAX_INT64_DIGITS = 19
_BAD_BYTES = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True, slots=True)
class ServiceRegistration:
    url: str
    name: str
    reserved: str


@dataclass(frozen=True, slots=True)
class TaskMessage:
    """taskRegister / updateStatus body (and a metadata record, which also carries Reserved).

    An optional field is None when the message does not carry its key (or carries null):
    such a message leaves the stored value as it is.
    """

    id: str
    project_id: str
    instance_id: str
    task_id: str
    status: str
    task_type: str
    url: str | None = None
    edit_info: str | None = None
    create_time: int | None = None
    reserved: str | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    url: str
    time: int
    reserved: str


class _Float(float):
    """Marks a JSON number written with a fraction or exponent (Go refuses it for int64)."""


class _HugeInt(str):
    """A JSON integer too long for int64, kept as text (Python refuses to convert huge ones)."""


def _parse_int(text: str) -> int | _HugeInt:
    return _HugeInt(text) if len(text.lstrip("-")) > MAX_INT64_DIGITS else int(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # decode_json adds the "invalid JSON" prefix


class JsonObject:
    """A decoded JSON object with every key/value pair in document order.

    Go assigns struct fields pair by pair, so repeated keys, nulls and type errors are judged
    on every occurrence, not only on the last.
    """

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


def _go_utf8(body: bytes) -> str:
    # Go's decoder turns each byte of invalid UTF-8 into one U+FFFD rather than failing.
    text = body.decode("utf-8", errors="surrogateescape")
    return _BAD_BYTES.sub("\ufffd", text)


def decode_json(body: bytes) -> Any:
    """Decode a JSON document, refusing what Go's encoding/json refuses; objects are JsonObject."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidMessage(f"body: {len(body)} bytes, more than {MAX_BODY_BYTES}")
    try:
        return json.loads(
            _go_utf8(body),
            object_pairs_hook=JsonObject,
            parse_float=_Float,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidMessage(f"invalid JSON: {exc.msg} at offset {exc.pos}") from None
    except RecursionError:
        raise InvalidMessage("invalid JSON: nested too deeply") from None
    except ValueError as exc:
        raise InvalidMessage(f"invalid JSON: {exc}") from None


def decode_object(body: bytes) -> JsonObject:
    """Decode one JSON object (a message body)."""
    value = decode_json(body)
    if not isinstance(value, JsonObject):
        raise InvalidMessage(f"body: a JSON {_json_kind(value)}, not an object")
    return value


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | _HugeInt):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def fold_key(name: str) -> str:
    """Case folding as Go's encoding/json does it: one character for one (no 'ﬆ' -> 'st')."""
    return "".join(_fold_char(ch) for ch in name)


def _fold_char(ch: str) -> str:
    upper = ch.upper()
    if len(upper) != 1:
        return ch
    lower = upper.lower()
    return lower if len(lower) == 1 else upper


@functools.cache
def _folded_names(names: tuple[str, ...]) -> dict[str, str]:
    return {fold_key(name): name for name in names}


def match_fields(obj: JsonObject, names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Go encoding/json key matching: exact name first, else case-insensitive; unknown ignored.

    Returns, per field, its non-null values in document order (a null leaves a field as it is).
    """
    by_fold = _folded_names(names)
    found: dict[str, list[Any]] = {}
    for key, value in obj.pairs:
        name = key if key in names else by_fold.get(fold_key(key))
        if name is not None and value is not None:
            found.setdefault(name, []).append(value)
    return found


def _string(fields: dict[str, list[Any]], name: str, *, max_chars: int) -> str:
    value = _carried_string(fields, name, max_chars=max_chars)
    return "" if value is None else value


def _carried_string(fields: dict[str, list[Any]], name: str, *, max_chars: int) -> str | None:
    """The field's string, or None when the message does not carry it."""
    values = fields.get(name, [])
    for value in values:
        if isinstance(value, _HugeInt) or not isinstance(value, str):
            raise InvalidMessage(f"field {name}: cannot use JSON {_json_kind(value)} as a string")
    if not values:
        return None
    value = values[-1]
    if len(value) > max_chars:
        raise InvalidMessage(f"field {name}: {len(value)} characters, more than {max_chars}")
    return _without_lone_surrogates(value)


def _without_lone_surrogates(value: str) -> str:
    # Go decodes an unpaired \uD800-style escape to U+FFFD; so do we (they cannot be stored).
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    return value


def _int64(fields: dict[str, list[Any]], name: str) -> int:
    value = _carried_int64(fields, name)
    return 0 if value is None else value


def _carried_int64(fields: dict[str, list[Any]], name: str) -> int | None:
    """The field's int64, or None when the message does not carry it."""
    values = fields.get(name, [])
    for value in values:
        if isinstance(value, _HugeInt):
            raise InvalidMessage(f"field {name}: {value[:30]}… overflows int64")
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidMessage(f"field {name}: cannot use JSON {_json_kind(value)} as an int64")
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidMessage(f"field {name}: {value} overflows int64")
    return values[-1] if values else None


def _require(value: str, name: str) -> str:
    if not value.strip():
        raise InvalidMessage(f"field {name}: required, missing or empty")
    return value


def _http_url(value: str, name: str, *, required: bool) -> str:
    if not value:
        if required:
            raise InvalidMessage(f"field {name}: required, missing or empty")
        return ""
    if not url_origin(value):
        raise InvalidMessage(f"field {name}: {value[:80]!r} is not an absolute http(s) URL")
    return value


_SERVICE_KEYS = ("URL", "Name", "Reserved")
_TASK_KEYS = (
    "ID",
    "ProjectID",
    "InstanceID",
    "TaskID",
    "Status",
    "TaskType",
    "URL",
    "EditInfo",
    "CreateTime",
)
_METADATA_KEYS = (*_TASK_KEYS, "Reserved")
_HEARTBEAT_KEYS = ("url", "time", "reserved")


def parse_service_registration(body: bytes) -> ServiceRegistration:
    fields = match_fields(decode_object(body), _SERVICE_KEYS)
    url = _http_url(_string(fields, "URL", max_chars=MAX_URL_CHARS), "URL", required=True)
    if not normalise_service_url(url):
        raise InvalidMessage(f"field URL: {url[:80]!r} has no host")
    return ServiceRegistration(
        url=url,
        name=_string(fields, "Name", max_chars=MAX_ID_CHARS),
        reserved=_string(fields, "Reserved", max_chars=MAX_TEXT_CHARS),
    )


def task_message_from_fields(fields: dict[str, list[Any]], *, with_reserved: bool) -> TaskMessage:
    """Build and validate a task message from already key-matched fields."""
    project_id = _require(_string(fields, "ProjectID", max_chars=MAX_ID_CHARS), "ProjectID")
    instance_id = _require(_string(fields, "InstanceID", max_chars=MAX_ID_CHARS), "InstanceID")
    task_id = _require(_string(fields, "TaskID", max_chars=MAX_ID_CHARS), "TaskID")
    task_type = _require(_string(fields, "TaskType", max_chars=MAX_ID_CHARS), "TaskType")
    given_id = _string(fields, "ID", max_chars=MAX_ID_CHARS)
    if given_id:
        check_given_task_id(given_id, field="ID")
    url = _carried_string(fields, "URL", max_chars=MAX_URL_CHARS)
    return TaskMessage(
        id=given_id or derive_task_id(project_id, instance_id, task_id, task_type),
        project_id=project_id,
        instance_id=instance_id,
        task_id=task_id,
        status=_string(fields, "Status", max_chars=MAX_ID_CHARS),
        task_type=task_type,
        url=None if url is None else _http_url(url, "URL", required=False),
        edit_info=_carried_string(fields, "EditInfo", max_chars=MAX_TEXT_CHARS),
        create_time=_carried_int64(fields, "CreateTime"),
        reserved=(
            _carried_string(fields, "Reserved", max_chars=MAX_TEXT_CHARS) if with_reserved else None
        ),
    )


def parse_task_message(body: bytes) -> TaskMessage:
    """A taskRegister / updateStatus body: in canonical form by the fast path, else carefully."""
    if len(body) <= MAX_BODY_BYTES:
        fast = canonical_task_message(body)
        if fast is not None:
            return fast
    return parse_task_message_carefully(body)


def parse_task_message_carefully(body: bytes) -> TaskMessage:
    """A taskRegister / updateStatus body under Go's rules, whatever its form."""
    return task_message_from_fields(
        match_fields(decode_object(body), _TASK_KEYS), with_reserved=False
    )


def canonical_task_message(body: bytes) -> TaskMessage | None:
    """The message of a valid body in canonical form; None for any other (the careful parser's).

    Checks what `task_message_from_fields` checks; on any doubt it answers None, so that every
    refusal and its reason come from the careful parser.
    """
    raw = decode_canonical_task(body)
    if raw is None:
        return None
    required = (raw.ProjectID, raw.InstanceID, raw.TaskID, raw.TaskType)
    for value in (*required, raw.ID, raw.Status):
        if len(value) > MAX_ID_CHARS:
            return None
    if not all(value.strip() for value in required):
        return None
    if raw.ID:
        try:
            check_given_task_id(raw.ID, field="ID")
        except InvalidMessage:
            return None
    url, edit_info, create_time = raw.URL, raw.EditInfo, raw.CreateTime
    if url is not UNSET and (len(url) > MAX_URL_CHARS or (url and not url_origin(url))):
        return None
    if edit_info is not UNSET and len(edit_info) > MAX_TEXT_CHARS:
        return None
    return TaskMessage(
        id=raw.ID or derive_task_id(*required),
        project_id=raw.ProjectID,
        instance_id=raw.InstanceID,
        task_id=raw.TaskID,
        status=raw.Status,
        task_type=raw.TaskType,
        url=None if url is UNSET else url,
        edit_info=None if edit_info is UNSET else edit_info,
        create_time=None if create_time is UNSET else create_time,
    )


def parse_metadata_record(obj: JsonObject) -> TaskMessage:
    """One record of a service's metadata answer (SPEC §4)."""
    return task_message_from_fields(match_fields(obj, _METADATA_KEYS), with_reserved=True)


def parse_heartbeat(body: bytes) -> Heartbeat:
    fields = match_fields(decode_object(body), _HEARTBEAT_KEYS)
    url = _http_url(_string(fields, "url", max_chars=MAX_URL_CHARS), "url", required=True)
    return Heartbeat(
        url=url,
        time=_int64(fields, "time"),
        reserved=_string(fields, "reserved", max_chars=MAX_TEXT_CHARS),
    )
