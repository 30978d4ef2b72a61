"""Message parsing with Go encoding/json semantics (SPEC §3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from taskdash.domain.errors import InvalidMessage
from taskdash.domain.events import (
    MAX_BODY_BYTES,
    MAX_ID_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    Heartbeat,
    ServiceRegistration,
    decode_object,
    parse_heartbeat,
    parse_metadata_record,
    parse_service_registration,
    parse_task_message,
)
from taskdash.domain.models import derive_task_id
from taskdash.sample_data import SEED_TASKS

SERVICE_URL = "http://127.0.0.1:18081"


def task_fields(**overrides: Any) -> dict[str, Any]:
    """A valid taskRegister/updateStatus body as a Go service marshals it."""
    fields: dict[str, Any] = {
        "ID": "",
        "ProjectID": "p1",
        "InstanceID": "i1",
        "TaskID": "0001",
        "Status": "",
        "TaskType": "satEdit",
        "URL": f"{SERVICE_URL}/edit/0001",
        "EditInfo": "",
        "CreateTime": 1596174701,
    }
    fields.update(overrides)
    return fields


def encode(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode()


def raw_task(fragment: str | bytes) -> bytes:
    """A task body with the required fields followed by a raw JSON `fragment` of members."""
    if isinstance(fragment, str):
        fragment = fragment.encode()
    return b'{"ProjectID":"p1","InstanceID":"i1","TaskID":"0001","TaskType":"satEdit",' + (
        fragment + b"}"
    )


# --- key matching -------------------------------------------------------------------------


def test_all_fields_are_read() -> None:
    msg = parse_task_message(
        encode(task_fields(ID="abc", Status="编辑中", EditInfo="box 1", CreateTime=42))
    )
    assert (msg.id, msg.project_id, msg.instance_id, msg.task_id, msg.task_type) == (
        "abc",
        "p1",
        "i1",
        "0001",
        "satEdit",
    )
    assert (msg.status, msg.url, msg.edit_info, msg.create_time) == (
        "编辑中",
        f"{SERVICE_URL}/edit/0001",
        "box 1",
        42,
    )


def test_keys_match_case_insensitively() -> None:
    msg = parse_task_message(
        raw_task(
            '"id":"x","STATUS":"编辑中","edITinfo":"e","createtime":7,"url":"http://127.0.0.1/"'
        )
    )
    assert (msg.id, msg.status, msg.edit_info, msg.create_time, msg.url) == (
        "x",
        "编辑中",
        "e",
        7,
        "http://127.0.0.1/",
    )


def test_lower_case_required_keys_are_found() -> None:
    msg = parse_task_message(
        b'{"projectid":"p1","instanceid":"i1","taskid":"0001","tasktype":"satEdit"}'
    )
    assert msg.id == derive_task_id("p1", "i1", "0001", "satEdit")


def test_unknown_keys_are_ignored() -> None:
    body = encode(
        task_fields(Extra="x", User="mallory", Group="g", Checker="c", Nested={"a": [1, 2.5]})
    )
    assert parse_task_message(body) == parse_task_message(encode(task_fields()))


def test_unknown_keys_of_any_type_are_ignored() -> None:
    msg = parse_task_message(raw_task('"Bogus":1.5,"Other":[true,null],"More":{"x":1e999}'))
    assert msg.task_id == "0001"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('"ID":"a","ID":"b"', "b"),
        ('"ID":"a","id":"c","ID":"b"', "b"),
        ('"id":"c","ID":"a","id":"b"', "b"),
        ('"ID":"a","id":"b"', "b"),
        ('"id":"b","ID":"a"', "a"),
    ],
)
def test_repeated_keys_last_occurrence_decides(fragment: str, expected: str) -> None:
    assert parse_task_message(raw_task(fragment)).id == expected


@pytest.mark.parametrize("fragment", ['"ID":"a","ID":null', '"ID":"a","id":null'])
def test_repeated_key_ending_in_null_keeps_the_earlier_value(fragment: str) -> None:
    # Go: null leaves the field as it is, so a later null does not undo an earlier value.
    assert parse_task_message(raw_task(fragment)).id == "a"


def test_repeated_create_time_ending_in_null_keeps_the_earlier_value() -> None:
    assert parse_task_message(raw_task('"CreateTime":5,"CreateTime":null')).create_time == 5


def test_keys_fold_like_go() -> None:
    # Go's EqualFold uses simple case folding: the long s and Kelvin sign match, ligatures don't.
    msg = parse_task_message(
        b'{"ProjectID":"p1","InstanceID":"i1","TaskType":"satEdit",'
        b'"\\u017ftatus":"s","Tas\\u212aID":"k","EditInf\\u00f6":"x"}'
    )
    assert (msg.status, msg.task_id, msg.edit_info) == ("s", "k", None)


def test_ligature_keys_do_not_match() -> None:
    msg = parse_task_message(raw_task('"\\ufb06atus":"x","Editinfo":"e"'))
    assert (msg.status, msg.edit_info) == ("", "e")


def test_repeated_key_with_wrong_type_last_is_rejected() -> None:
    with pytest.raises(InvalidMessage):
        parse_task_message(raw_task('"Status":"ok","Status":5'))


def test_repeated_key_with_wrong_type_first_is_still_rejected() -> None:
    # Go reports a type error even when a later value of the same key is fine.
    with pytest.raises(InvalidMessage):
        parse_task_message(raw_task('"Status":5,"Status":"ok"'))


# --- types --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 0, 1.5, True, False, {"a": "b"}, ["x"], []])
@pytest.mark.parametrize(
    "field", ["ID", "ProjectID", "InstanceID", "TaskID", "Status", "TaskType", "URL", "EditInfo"]
)
def test_string_field_of_another_type_is_rejected(field: str, value: Any) -> None:
    with pytest.raises(InvalidMessage, match=field):
        parse_task_message(encode(task_fields(**{field: value})))


@pytest.mark.parametrize(
    "raw",
    ["1.5", "1.0", "1e9", "1E9", "-1.5e3", '"1596174701"', "true", "false", "[1]", "{}"],
)
def test_create_time_that_is_not_an_integer_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidMessage, match="CreateTime"):
        parse_task_message(raw_task(f'"CreateTime":{raw}'))


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_create_time_outside_int64_is_rejected(value: int) -> None:
    with pytest.raises(InvalidMessage, match="CreateTime"):
        parse_task_message(encode(task_fields(CreateTime=value)))


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0, -1])
def test_create_time_at_int64_limits_is_accepted(value: int) -> None:
    assert parse_task_message(encode(task_fields(CreateTime=value))).create_time == value


def test_negative_zero_create_time_is_zero() -> None:
    assert parse_task_message(raw_task('"CreateTime":-0')).create_time == 0


def test_create_time_with_thousands_of_digits_is_invalid_message() -> None:
    with pytest.raises(InvalidMessage, match="CreateTime"):
        parse_task_message(raw_task('"CreateTime":' + "9" * 5000))


def test_huge_integer_in_unknown_key_is_ignored() -> None:
    # Go skips the value of a key no field matches, whatever its size.
    msg = parse_task_message(raw_task('"Bogus":' + "9" * 5000))
    assert msg.task_id == "0001"


def test_null_is_like_a_missing_key() -> None:
    msg = parse_task_message(
        raw_task('"ID":null,"Status":null,"URL":null,"EditInfo":null,"CreateTime":null')
    )
    assert (msg.status, msg.url, msg.edit_info, msg.create_time) == ("", None, None, None)
    assert msg.id == derive_task_id("p1", "i1", "0001", "satEdit")


def test_missing_optional_keys_are_told_apart_from_empty_ones() -> None:
    missing = parse_task_message(
        b'{"ProjectID":"p1","InstanceID":"i1","TaskID":"0001","TaskType":"satEdit"}'
    )
    assert (missing.url, missing.edit_info, missing.create_time) == (None, None, None)
    empty = parse_task_message(raw_task('"URL":"","EditInfo":"","CreateTime":0'))
    assert (empty.url, empty.edit_info, empty.create_time) == ("", "", 0)


def test_metadata_record_without_reserved_does_not_carry_it() -> None:
    assert parse_metadata_record(decode_object(encode(task_fields()))).reserved is None
    record = parse_metadata_record(decode_object(encode({**task_fields(), "Reserved": ""})))
    assert record.reserved == ""


@pytest.mark.parametrize("key", ["ProjectID", "TaskType"])
def test_null_required_field_is_missing(key: str) -> None:
    with pytest.raises(InvalidMessage, match="required"):
        parse_task_message(encode({**task_fields(), key: None}))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("key", ["CreateTime", "Bogus"])
def test_nan_and_infinity_are_rejected(key: str, constant: str) -> None:
    with pytest.raises(InvalidMessage):
        parse_task_message(raw_task(f'"{key}":{constant}'))


# --- body shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"[]", b'[{"ProjectID":"p1"}]', b'"text"', b"42", b"1.5", b"null", b"true", b"", b"  "],
)
def test_body_that_is_not_an_object_is_rejected(body: bytes) -> None:
    for parse in (parse_task_message, parse_service_registration, parse_heartbeat):
        with pytest.raises(InvalidMessage):
            parse(body)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"ProjectID":"p1",}',
        b"{'ProjectID':'p1'}",
        b'{"ProjectID":"p1"} {}',
        b'{"ProjectID":"p1\x01"}',
        # The seed document's own example has a bare "EditInfo" member.
        b'{"ID":"d8b6efc3ee308ef3ea1284b9dfc79df8","ProjectID":"projectID",'
        b'"InstanceID":"instanceID","TaskID":"0210232_1220_1222_020","TaskType":"satEdit",'
        b'"Status":"\xe5\xbe\x85\xe9\xa2\x86\xe5\x8f\x96","URL":"https://127.0.0.1:8080",'
        b'"EditInfo","CreateTime":1597116419}',
    ],
)
def test_invalid_json_is_rejected(body: bytes) -> None:
    with pytest.raises(InvalidMessage, match="invalid JSON"):
        parse_task_message(body)


def test_deeply_nested_body_is_rejected() -> None:
    depth = 200_000
    with pytest.raises(InvalidMessage):
        parse_task_message(raw_task('"Bogus":' + "[" * depth + "]" * depth))


def test_body_over_one_mebibyte_is_rejected() -> None:
    body = encode(task_fields(Padding="x" * MAX_BODY_BYTES))
    assert len(body) > MAX_BODY_BYTES
    with pytest.raises(InvalidMessage, match="bytes"):
        parse_task_message(body)


def test_body_of_exactly_one_mebibyte_is_accepted() -> None:
    base = encode(task_fields(Padding=""))
    body = encode(task_fields(Padding="x" * (MAX_BODY_BYTES - len(base))))
    assert len(body) == MAX_BODY_BYTES
    assert parse_task_message(body).task_id == "0001"


def test_surrounding_whitespace_is_allowed() -> None:
    assert parse_task_message(b" \n" + encode(task_fields()) + b"\r\n ").task_id == "0001"


# --- text ---------------------------------------------------------------------------------


def test_invalid_utf8_is_replaced_not_rejected() -> None:
    msg = parse_task_message(raw_task(b'"EditInfo":"a\xffb","Status":"\xc0\xaf"'))
    assert (msg.edit_info, msg.status) == ("a\ufffdb", "\ufffd\ufffd")


def test_invalid_utf8_bytes_each_become_one_replacement_character() -> None:
    # Go's decoder replaces each byte of an invalid sequence (utf8.DecodeRune size 1).
    body = raw_task(b'"EditInfo":"a\xe4\xb8b"')
    assert parse_task_message(body).edit_info == "a\ufffd\ufffdb"


def test_utf8_encoded_surrogate_becomes_replacement_characters() -> None:
    body = raw_task(b'"EditInfo":"a\xed\xa0\x80b"')
    assert parse_task_message(body).edit_info == "a\ufffd\ufffd\ufffdb"


@pytest.mark.parametrize(
    ("escaped", "expected"),
    [
        (r"\ud800", "\ufffd"),
        (r"\udfff", "\ufffd"),
        (r"x\ud800\u0041", "x\ufffdA"),
        (r"\ude00\ud83d", "\ufffd\ufffd"),
        (r"\ud83d\ude00", "\U0001f600"),
    ],
)
def test_surrogate_escapes(escaped: str, expected: str) -> None:
    msg = parse_task_message(raw_task(f'"EditInfo":"{escaped}","Status":"{escaped}"'))
    assert (msg.edit_info, msg.status) == (expected, expected)
    msg.edit_info.encode("utf-8")


def test_lone_surrogate_in_identity_fields_derives_a_stable_id() -> None:
    msg = parse_task_message(
        b'{"ProjectID":"p\\ud800","InstanceID":"i1","TaskID":"0001","TaskType":"satEdit"}'
    )
    assert msg.project_id == "p\ufffd"
    assert msg.id == derive_task_id("p\ufffd", "i1", "0001", "satEdit")


def test_non_ascii_text_is_kept() -> None:
    msg = parse_task_message(encode(task_fields(Status="编辑中", EditInfo="标注 ✓")))
    assert (msg.status, msg.edit_info) == ("编辑中", "标注 ✓")


# --- required and limited fields ----------------------------------------------------------


@pytest.mark.parametrize("field", ["ProjectID", "InstanceID", "TaskID", "TaskType"])
def test_missing_required_task_field_is_rejected(field: str) -> None:
    fields = task_fields()
    del fields[field]
    with pytest.raises(InvalidMessage, match=field):
        parse_task_message(encode(fields))


@pytest.mark.parametrize("field", ["ProjectID", "InstanceID", "TaskID", "TaskType"])
@pytest.mark.parametrize("value", ["", "   "])
def test_blank_required_task_field_is_rejected(field: str, value: str) -> None:
    with pytest.raises(InvalidMessage, match=field):
        parse_task_message(encode(task_fields(**{field: value})))


@pytest.mark.parametrize("field", ["Status", "URL", "EditInfo", "CreateTime", "ID"])
def test_optional_task_fields_may_be_missing(field: str) -> None:
    fields = task_fields()
    del fields[field]
    assert parse_task_message(encode(fields)).task_id == "0001"


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("ID", MAX_ID_CHARS),
        ("ProjectID", MAX_ID_CHARS),
        ("InstanceID", MAX_ID_CHARS),
        ("TaskID", MAX_ID_CHARS),
        ("TaskType", MAX_ID_CHARS),
        ("Status", MAX_ID_CHARS),
        ("EditInfo", MAX_TEXT_CHARS),
    ],
)
def test_over_long_task_field_is_rejected(field: str, limit: int) -> None:
    assert parse_task_message(encode(task_fields(**{field: "x" * limit})))
    with pytest.raises(InvalidMessage, match=field):
        parse_task_message(encode(task_fields(**{field: "x" * (limit + 1)})))


def test_over_long_url_is_rejected() -> None:
    prefix = f"{SERVICE_URL}/"
    fits = prefix + "a" * (MAX_URL_CHARS - len(prefix))
    assert parse_task_message(encode(task_fields(URL=fits))).url == fits
    with pytest.raises(InvalidMessage, match="URL"):
        parse_task_message(encode(task_fields(URL=fits + "a")))


def test_length_limits_count_characters_not_bytes() -> None:
    msg = parse_task_message(encode(task_fields(Status="编" * MAX_ID_CHARS)))
    assert len(msg.status) == MAX_ID_CHARS


BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "ftp://127.0.0.1/file",
    "file:///etc/passwd",
    "data:text/html,<b>x</b>",
    "/edit/0001",
    "edit/0001",
    "//127.0.0.1/edit",
    "http://",
    "http://:8080/x",
    "http://127.0.0.1:99999/",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_task_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(InvalidMessage, match="URL"):
        parse_task_message(encode(task_fields(URL=url)))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1",
        "https://127.0.0.1:8080/edit?x=1",
        "HTTP://LOCALHOST/x",
        "http://[::1]:8080/",
    ],
)
def test_task_url_http_and_https_are_accepted(url: str) -> None:
    assert parse_task_message(encode(task_fields(URL=url))).url == url


# --- seed tasks and IDs -------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEED_TASKS, ids=[t[0] for t in SEED_TASKS])
def test_seed_task_ids_derive(seed: tuple[str, str, str, str, str, str, int]) -> None:
    task_id, project, instance, number, kind, _status, _created = seed
    assert derive_task_id(project, instance, number, kind) == task_id


@pytest.mark.parametrize("seed", SEED_TASKS, ids=[t[0] for t in SEED_TASKS])
@pytest.mark.parametrize("id_field", ["empty", "missing", "null"])
def test_seed_task_without_id_gets_the_seed_id(
    seed: tuple[str, str, str, str, str, str, int], id_field: str
) -> None:
    task_id, project, instance, number, kind, status, created = seed
    fields = task_fields(
        ProjectID=project,
        InstanceID=instance,
        TaskID=number,
        TaskType=kind,
        Status=status,
        CreateTime=created,
    )
    if id_field == "missing":
        del fields["ID"]
    else:
        fields["ID"] = "" if id_field == "empty" else None
    msg = parse_task_message(encode(fields))
    assert (msg.id, msg.status, msg.create_time) == (task_id, status, created)


def test_given_id_is_kept_even_if_it_differs_from_the_derived_one() -> None:
    assert parse_task_message(encode(task_fields(ID="my-own-id"))).id == "my-own-id"


def test_derive_task_id_is_lower_case_md5_of_concatenation() -> None:
    derived = derive_task_id("p", "i", "t", "k")
    assert derived == derive_task_id("pi", "", "tk", "")
    assert len(derived) == 32
    assert derived == derived.lower()
    assert all(ch in "0123456789abcdef" for ch in derived)


# --- metadata records ---------------------------------------------------------------------


def test_metadata_record_carries_reserved() -> None:
    record = parse_metadata_record(decode_object(encode({**task_fields(), "reserved": "r"})))
    assert record.reserved == "r"
    assert parse_task_message(encode({**task_fields(), "Reserved": "r"})).reserved is None


def test_metadata_record_is_validated_like_a_message() -> None:
    with pytest.raises(InvalidMessage, match="TaskType"):
        parse_metadata_record(decode_object(encode({**task_fields(), "TaskType": 5})))


# --- heartbeats ---------------------------------------------------------------------------


def test_seed_heartbeat_example() -> None:
    body = b'{"url":"http://localhost:8080/rpost/test","time":1594885152,"reserved":"no"}'
    assert parse_heartbeat(body) == Heartbeat(
        url="http://localhost:8080/rpost/test", time=1594885152, reserved="no"
    )


def test_heartbeat_keys_match_case_insensitively() -> None:
    body = b'{"URL":"http://127.0.0.1:18081/","Time":5,"RESERVED":"r","Extra":1}'
    assert parse_heartbeat(body) == Heartbeat(url="http://127.0.0.1:18081/", time=5, reserved="r")


def test_heartbeat_exact_key_and_repeats() -> None:
    body = b'{"URL":"http://127.0.0.1:1/","url":"http://127.0.0.1:2/","time":1,"time":2}'
    assert parse_heartbeat(body) == Heartbeat(url="http://127.0.0.1:2/", time=2, reserved="")


@pytest.mark.parametrize(
    "body",
    [
        b'{"time":1594885152,"reserved":"no"}',
        b'{"url":"","time":1}',
        b'{"url":null,"time":1}',
    ],
)
def test_heartbeat_needs_url(body: bytes) -> None:
    with pytest.raises(InvalidMessage, match="url"):
        parse_heartbeat(body)


@pytest.mark.parametrize("url", BAD_URLS)
def test_heartbeat_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(InvalidMessage, match="url"):
        parse_heartbeat(json.dumps({"url": url, "time": 1}).encode())


@pytest.mark.parametrize("raw", ["1.5", "1e9", '"1594885152"', "true", str(2**63)])
def test_heartbeat_time_must_be_int64(raw: str) -> None:
    with pytest.raises(InvalidMessage, match="time"):
        parse_heartbeat(f'{{"url":"http://127.0.0.1:18081/","time":{raw}}}'.encode())


def test_heartbeat_time_may_be_missing() -> None:
    assert parse_heartbeat(b'{"url":"http://127.0.0.1:18081/"}').time == 0


# --- service registrations ----------------------------------------------------------------


def test_seed_service_example() -> None:
    body = b'{"URL":"https://127.0.0.1:8080/TaskDash/","Name":"annotator","Reserved":""}'
    assert parse_service_registration(body) == ServiceRegistration(
        url="https://127.0.0.1:8080/TaskDash/", name="annotator", reserved=""
    )


def test_service_keys_match_case_insensitively() -> None:
    body = b'{"url":"http://127.0.0.1:18081/","name":"satEdit","reserved":"x","Other":[]}'
    assert parse_service_registration(body) == ServiceRegistration(
        url="http://127.0.0.1:18081/", name="satEdit", reserved="x"
    )


@pytest.mark.parametrize(
    "body", [b'{"Name":"annotator"}', b'{"URL":"","Name":"a"}', b'{"URL":null}']
)
def test_service_needs_url(body: bytes) -> None:
    with pytest.raises(InvalidMessage, match="URL"):
        parse_service_registration(body)


@pytest.mark.parametrize("url", BAD_URLS)
def test_service_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(InvalidMessage, match="URL"):
        parse_service_registration(json.dumps({"URL": url}).encode())


@pytest.mark.parametrize(
    "fields", [{"URL": 5}, {"URL": SERVICE_URL, "Name": 1}, {"URL": SERVICE_URL, "Reserved": []}]
)
def test_service_field_of_wrong_type_is_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessage):
        parse_service_registration(json.dumps(fields).encode())


def test_over_long_service_name_is_rejected() -> None:
    with pytest.raises(InvalidMessage, match="Name"):
        parse_service_registration(
            json.dumps({"URL": SERVICE_URL, "Name": "n" * (MAX_ID_CHARS + 1)}).encode()
        )
