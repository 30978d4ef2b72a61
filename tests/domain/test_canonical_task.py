"""The fast path of task bodies agrees with the careful parser wherever it answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from taskdash.domain.errors import InvalidMessage
from taskdash.domain.events import (
    MAX_ID_CHARS,
    TaskMessage,
    canonical_task_message,
    parse_task_message,
    parse_task_message_carefully,
)

TASK_KEYS = (
    *("ID", "ProjectID", "InstanceID", "TaskID", "Status", "TaskType", "URL", "EditInfo"),
    "CreateTime",
)
KEY_SPELLINGS = {
    **{key: (key, key.lower(), key.upper(), key.swapcase()) for key in TASK_KEYS},
    "Status": ("Status", "status", "\ufb06atus"),  # 'ﬆ' folds to nothing in Go
}
UNKNOWN_KEYS = ("Reserved", "User", "Bogus", "")
# Raw JSON values: what Go marshals, and every kind the careful parser must judge.
STRINGS = ("", " ", "p1", "编辑中", "a b", "x" * (MAX_ID_CHARS + 1), "../x", ".", "a/b", "\u200b")
URLS = ("http://127.0.0.1:18081/edit/1", "https://h/e?a=1&b=2", "ftp://h/x", "nohost", "http://")
RAW_VALUES = (
    "null",
    "true",
    "0",
    "-0",
    "1.5",
    "1e3",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999",
    "[]",
    "{}",
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude00"',
    '"\\u0041\\u00e9"',
    '"\\u003chttp\\u0026"',
    "NaN",
)


careful = parse_task_message_carefully


def value_text(draw: st.DrawFn, key: str) -> str:
    kind = draw(st.sampled_from(("string", "string", "url", "int", "raw")))
    if kind == "string":
        return json.dumps(draw(st.sampled_from(STRINGS) | st.text(max_size=8)), ensure_ascii=False)
    if kind == "url":
        return json.dumps(draw(st.sampled_from(URLS)))
    if kind == "int":
        return str(draw(st.integers(min_value=-(2**64), max_value=2**64)))
    return draw(st.sampled_from(RAW_VALUES))


@st.composite
def task_bodies(draw: st.DrawFn) -> bytes:
    """Bodies near canonical form: mostly Go's keys and values, with the tricky cases mixed in."""
    base: dict[str, Any] = {
        "ID": "",
        "ProjectID": "p1",
        "InstanceID": "i1",
        "TaskID": draw(st.sampled_from(("0001", "0002"))),
        "Status": "",
        "TaskType": "satEdit",
        "URL": "http://127.0.0.1:18081/edit/1",
        "EditInfo": "",
        "CreateTime": 1596174701,
    }
    spellings = {key: key for key in base}
    texts = {key: json.dumps(value, ensure_ascii=False) for key, value in base.items()}
    for _ in range(draw(st.integers(0, 3))):  # a few tweaks: often none, so many are canonical
        key = draw(st.sampled_from(list(base)))
        tweak = draw(st.sampled_from(("leave out", "spell", "value", "value")))
        if tweak == "leave out":
            texts.pop(key, None)
        elif tweak == "spell":
            spellings[key] = draw(st.sampled_from(KEY_SPELLINGS[key]))
        else:
            texts[key] = value_text(draw, key)
    members = [f"{json.dumps(spellings[key])}:{text}" for key, text in texts.items()]
    for _ in range(draw(st.sampled_from((0, 0, 1, 2)))):  # repeated or unknown keys, anywhere
        key = draw(st.sampled_from((*TASK_KEYS, *UNKNOWN_KEYS)))
        index = draw(st.integers(0, len(members)))
        members.insert(index, f"{json.dumps(key)}:{value_text(draw, key)}")
    body = ("{" + ",".join(members) + "}").encode()
    if draw(st.integers(0, 19)) == 0:
        index = draw(st.integers(0, len(body)))
        body = (
            body[:index]
            + draw(st.sampled_from((b"\xff", b"\xed\xa0\x80", b" ", b",")))
            + (body[index:])
        )
    return body


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=task_bodies())
@example(body=b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","ID":"a","ID":"b"}')
@example(body=b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","Status":"a\xff"}')
def test_fast_path_agrees_with_the_careful_parser(body: bytes) -> None:
    fast = canonical_task_message(body)
    if fast is None:
        return  # the careful parser decides alone
    assert careful(body) == fast


def outcome(parse: Callable[[bytes], TaskMessage], body: bytes) -> TaskMessage | str:
    try:
        return parse(body)
    except InvalidMessage as exc:
        return f"refused: {exc}"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=task_bodies())
def test_parsing_answers_as_the_careful_parser_alone(body: bytes) -> None:
    assert outcome(parse_task_message, body) == outcome(careful, body)


def go_body(**fields: Any) -> bytes:
    """A body as Go's json.Marshal writes it (compact; <, > and & escaped)."""
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


@pytest.mark.parametrize(
    "fields",
    [
        {"ID": "", "ProjectID": "p1", "InstanceID": "i1", "TaskID": "0001", "Status": "",
         "TaskType": "satEdit", "URL": "http://h:1/e?a=1&b=<2>", "EditInfo": "框 ✓",
         "CreateTime": 1596174701},
        {"ProjectID": "p1", "InstanceID": "i1", "TaskID": "0001", "TaskType": "satEdit"},
        {"ID": "own-id", "ProjectID": "p", "InstanceID": "i", "TaskID": "t", "TaskType": "x",
         "Status": "编辑中", "CreateTime": -9223372036854775808},
    ],
)  # fmt: skip
def test_canonical_bodies_take_the_fast_path(fields: dict[str, Any]) -> None:
    body = go_body(**fields)
    fast = canonical_task_message(body)
    assert fast is not None
    assert fast == careful(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"projectid":"p","InstanceID":"i","TaskID":"t","TaskType":"x"}',
        b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","URL":null}',
        b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","CreateTime":1.0}',
        b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","Status":"\\ud800"}',
        b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","Reserved":"r"}',
        b'{"ProjectID":" ","InstanceID":"i","TaskID":"t","TaskType":"x"}',
        b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","URL":"ftp://h"}',
    ],
)
def test_what_is_not_canonical_goes_to_the_careful_parser(body: bytes) -> None:
    assert canonical_task_message(body) is None


def test_an_invalid_canonical_body_is_refused_with_the_careful_reason() -> None:
    body = b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","ID":"a/b"}'
    with pytest.raises(InvalidMessage, match="field ID: '/'"):
        careful(body)
    assert canonical_task_message(body) is None
