"""Hypothesis over `POST /rpost/task`: every operation, odd JSON and odd forms, as every role.

Whatever the body, the answer is the seed's: HTTP 200 with `"success"`, a list of tasks, or
`{errid, errmsg}` with a known errid; never a 5xx or errid 1011, and the connection stays up.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdash.domain.errors import ERRORS_BY_ID, InternalError
from taskdash.domain.task_record import COMPAT_TASK_KEYS
from taskdash.web.routes.compat import OPERATIONS
from tests.security.fuzzing import ROLES, seed
from tests.support import LiveServer

COMPAT_KEYS = set(COMPAT_TASK_KEYS)  # the seed's 12 keys (checked literally in test_seed_examples)
PARAM_NAMES = (
    "operation",
    "username",
    "password",
    "user",
    "checker",
    "group",
    "status",
    "TaskType",
    "ProjectID",
    "ID",
    "IDs",
    "limit",
    "offset",
)
KNOWN_ERRIDS = set(ERRORS_BY_ID) - {InternalError.errid}

# Text as JSON can carry it: any code point, lone surrogates (\ud800 escapes) included.
NASTY_TEXT = ["\ud800", "a\udfff", "\x00", "٣", "１２", "-1", "1.5", "9" * 40, "x" * 5000, " "]
any_text = st.one_of(st.text(st.characters(codec=None), max_size=12), st.sampled_from(NASTY_TEXT))
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1000, 1001, 10**6, 2**63, -(2**63) - 1, 10**300]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, any_text, st.sampled_from(ROLES))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=6,
)
operation_names = st.one_of(st.sampled_from(sorted(OPERATIONS)), values)
params = st.fixed_dictionaries(
    {"operation": operation_names},
    optional={name: values for name in PARAM_NAMES[1:]},
).flatmap(lambda p: st.dictionaries(any_text, values, max_size=2).map(lambda extra: {**extra, **p}))
operations = st.sampled_from(sorted(OPERATIONS))


def _json(value: Any) -> str:
    # allow_nan writes NaN / Infinity, which Python and JavaScript parsers may be sent.
    return json.dumps(value, allow_nan=True)


@st.composite
def odd_json(draw: st.DrawFn) -> bytes:
    """A body that is JSON or nearly so: duplicate keys, deep nesting, huge numbers, bad UTF-8."""
    p = draw(params)
    kind = draw(
        st.sampled_from(
            ["plain", "known", "nasty", "duplicate", "deep", "literal", "bad-utf8", "bytes"]
        )
    )
    if kind == "known":
        # Past the dispatch, into each operation's own parameters.
        p["operation"] = draw(operations)
        p[draw(st.sampled_from(PARAM_NAMES[1:]))] = draw(
            st.one_of(st.sampled_from(NASTY_TEXT), values)
        )
        return _json(p).encode("utf-8", "surrogatepass")
    if kind == "nasty":
        name = draw(st.sampled_from(PARAM_NAMES[1:]))
        nasty = draw(
            st.sampled_from(NASTY_TEXT)
            .map(lambda t: st.just(t) | st.just([t]))
            .flatmap(lambda x: x)
        )
        return _json({"operation": draw(operations), name: nasty}).encode()
    if kind == "plain":
        return _json(p).encode("utf-8", "surrogatepass")
    if kind == "duplicate":
        pairs = [*p.items(), (draw(st.sampled_from(PARAM_NAMES)), draw(values))]
        text = "{" + ",".join(f"{_json(k)}:{_json(v)}" for k, v in pairs) + "}"
        return text.encode("utf-8", "surrogatepass")
    if kind == "deep":
        depth = draw(st.integers(min_value=500, max_value=20_000))
        nest = draw(st.sampled_from(["[", '{"a":']))
        close = "]" if nest == "[" else "}"
        name = draw(st.sampled_from(PARAM_NAMES))
        value = f"{nest * depth}1{close * depth}"
        return f'{{"operation":"{draw(operations)}","{name}":{value}}}'.encode()
    if kind == "literal":
        name = draw(st.one_of(st.sampled_from(["limit", "offset"]), st.sampled_from(PARAM_NAMES)))
        literal = draw(
            st.sampled_from(
                ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000, "1e-400", "-0"]
            )
        )
        return f'{{"operation":"{draw(operations)}","{name}":{literal}}}'.encode()
    body = _json(p).encode("utf-8", "surrogatepass")
    if kind == "bad-utf8":
        at = draw(st.integers(min_value=0, max_value=len(body)))
        return (
            body[:at]
            + draw(st.binary(min_size=1, max_size=3).map(lambda b: bytes(x | 0x80 for x in b)))
            + body[at:]
        )
    return draw(st.binary(max_size=64))


@st.composite
def odd_form(draw: st.DrawFn) -> tuple[bytes, str]:
    """A form body: repeated fields, bad percent-escapes, or a multipart body."""
    p = {k: v for k, v in draw(params).items() if isinstance(v, str | int | float | list)}
    fields: list[tuple[str, str]] = []
    for key, value in p.items():
        for item in value if isinstance(value, list) else [value]:
            fields.append((key, str(item)))
    kind = draw(st.sampled_from(["urlencoded", "bad-escape", "multipart"]))
    if kind == "multipart":
        boundary = "fuzzboundary"
        parts = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields
        )
        body = (parts + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")
        if draw(st.booleans()):
            body = body[: draw(st.integers(min_value=0, max_value=len(body)))]
        return body, f"multipart/form-data; boundary={boundary}"
    body = urlencode(
        [
            (k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
            for k, v in fields
        ]
    ).encode()
    if kind == "bad-escape":
        body += draw(st.sampled_from([b"&operation=%ff%fe", b"&ID=%", b"&%zz=1", b"&&=&"]))
    return body, "application/x-www-form-urlencoded"


requests_ = st.one_of(
    odd_json().map(lambda body: (body, "application/json")),
    odd_json().map(lambda body: (body, "")),
    odd_form(),
)


def check_answer(answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    if isinstance(body, dict):
        assert body.get("errid") in KNOWN_ERRIDS, body
        assert isinstance(body.get("errmsg"), str), body
    elif isinstance(body, list):
        assert all(set(task) == COMPAT_KEYS for task in body), body[:1]
    else:
        assert body == "success", body


def test_any_body_as_any_role(server: LiveServer) -> None:
    sessions = seed(server)
    clients = {role: server.client(cookies=sessions.cookies(role)) for role in ROLES}
    clients["nobody"] = server.client()

    @settings(
        max_examples=600,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests_, who=st.sampled_from(sorted(clients)))
    def run(request: tuple[bytes, str], who: str) -> None:
        body, content_type = request
        client = clients[who]
        headers = {"Content-Type": content_type} if content_type else {}
        check_answer(client.post("/rpost/task", content=body, headers=headers))
        # The same keep-alive connection still answers.
        assert client.get("/healthz").status_code == 200

    run()
