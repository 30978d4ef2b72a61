"""Task IDs a service may give: usable as a URL path segment and shown as they are."""

from __future__ import annotations

import json

import pytest

from taskdash.domain.errors import InvalidMessage
from taskdash.domain.events import decode_object, parse_metadata_record, parse_task_message
from taskdash.domain.task_ids import check_given_task_id

ALLOWED = [
    "my-own-id",
    "a+b",
    "a&b=c;d:e",
    "任务-0001",
    "🎉",
    "👩\u200d💻",  # a ZWJ sequence
    "❤\ufe0f",  # an emoji with its presentation selector
    "1\ufe0f\u20e3",  # keycap one
    "🇨🇳",
    "x..y",
    "..x",
    ".hidden",
    "a@b!c$d'e(f)g*h,i~j",
    "e\u0301",  # e with a combining acute accent
]
REFUSED = [
    ("a/b", "'/' (U+002F SOLIDUS)"),
    ("a\\b", "U+005C REVERSE SOLIDUS"),
    ("a?b", "U+003F QUESTION MARK"),
    ("a#b", "U+0023 NUMBER SIGN"),
    ("a%2Fb", "U+0025 PERCENT SIGN"),
    ("a b", "U+0020 SPACE"),
    (" ab", "U+0020 SPACE"),
    ("a\tb", "U+0009"),
    ("a\u3000b", "U+3000 IDEOGRAPHIC SPACE"),
    ("a\x00b", "U+0000"),
    ("a\x7fb", "U+007F"),
    ("ann1\u200b", "U+200B ZERO WIDTH SPACE"),
    ("ann\u200d1", "U+200D ZERO WIDTH JOINER"),
    ("ann1\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
    ("\u202eab", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\ufeffab", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("a\u00adb", "U+00AD SOFT HYPHEN"),
    ("\u3164", "U+3164 HANGUL FILLER"),
    ("a\u2028b", "U+2028 LINE SEPARATOR"),
]


def body(task_id: str) -> bytes:
    fields = {"ID": task_id, "ProjectID": "p1", "InstanceID": "i1", "TaskID": "1", "TaskType": "t"}
    return json.dumps(fields).encode()


@pytest.mark.parametrize("task_id", ALLOWED)
def test_odd_but_harmless_ids_are_kept(task_id: str) -> None:
    assert parse_task_message(body(task_id)).id == task_id


@pytest.mark.parametrize(("task_id", "named"), REFUSED)
def test_refused_id_names_the_field_and_the_character(task_id: str, named: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        parse_task_message(body(task_id))
    assert str(raised.value).startswith("field ID: ")
    assert named in str(raised.value)
    assert "not allowed in a task ID" in str(raised.value)


@pytest.mark.parametrize("task_id", [".", ".."])
def test_dot_segments_are_refused(task_id: str) -> None:
    with pytest.raises(InvalidMessage, match=r"field ID: .* cannot be a task ID"):
        parse_task_message(body(task_id))


def test_metadata_records_follow_the_same_rule() -> None:
    with pytest.raises(InvalidMessage, match="field ID: '/'"):
        parse_metadata_record(decode_object(body("a/b")))


def test_derived_ids_are_not_checked_against_the_parts() -> None:
    # The parts may hold anything; the md5 hex made of them is always a fine ID.
    fields = {"ProjectID": "p/1", "InstanceID": "i 1", "TaskID": "?#", "TaskType": "t%"}
    msg = parse_task_message(json.dumps(fields).encode())
    assert len(msg.id) == 32


def test_position_is_counted_from_one() -> None:
    with pytest.raises(InvalidMessage, match="at character 3"):
        check_given_task_id("ab/", field="ID")
