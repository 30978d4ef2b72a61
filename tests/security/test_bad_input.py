"""Malformed input answers errid 1000 saying what was wrong, and the connection stays up.

Each request goes out on one keep-alive connection followed by a second request on the same
socket: before the fix the first answered 500 and the server dropped the connection.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass

from tests.security.fuzzing import seed
from tests.support import LiveServer


@dataclass(frozen=True)
class Bad:
    method: str
    path: str
    body: bytes | None
    detail: str  # a part of the answer's `detail`
    content_type: str = "application/json"
    expected_status: int = 400


def rpost(body: str | bytes, detail: str, content_type: str = "application/json") -> Bad:
    raw = body.encode() if isinstance(body, str) else body
    return Bad("POST", "/rpost/task", raw, detail, content_type)


DEEP = "[" * 5000 + "]" * 5000
BAD_INPUT = [
    rpost(f'{{"operation": {DEEP}}}', "nested too deeply"),
    *(
        rpost(f'{{"operation":"GetTasksNoUser","{name}":{value}}}', message)
        for name in ("limit", "offset")
        for value, message in [
            ("1e400", "1e400 is out of range"),
            ("-1e400", "-1e400 is out of range"),
            ("Infinity", "Infinity is not a JSON number"),
            ("-Infinity", "-Infinity is not a JSON number"),
            ("NaN", "NaN is not a JSON number"),
            ("9" * 5000, "more than 30 digits"),
            ("1.5", f"{name} must be a whole number"),
            ("true", f"{name} must be a whole number"),
            ('"1e3"', f"{name} must be a whole number"),
            ('["1"]', f"{name} must be a whole number"),
        ]
    ),
    rpost('{"operation":"GetTasksByStatus","status":"\\ud800"}', "status is not Unicode text"),
    rpost('{"operation":"TaskBind","ID":"x\\udfff"}', "ID is not Unicode text"),
    rpost('{"operation":"TaskAssign","IDs":["\\ud800"],"user":"admin"}', "IDs is not Unicode"),
    rpost('{"operation":"GetTasksByUser","user":"\\ud800"}', "user is not Unicode text"),
    rpost('{"operation":"TaskRelease","ID":NaN}', "NaN is not a JSON number"),
    rpost('{"operation":"GetTasksNoUser","operation":"TaskBind"}', "key operation appears more"),
    rpost(b'{"operation":"GetTasksNoUser\xff"}', "body is not UTF-8"),
    rpost('{"operation":["GetTasksNoUser"]}', "operation must be a string"),
    rpost('{"operation":"TaskBind","ID":{"$ne":""}}', "ID must be a string"),
    rpost("[1, 2]", "body must be a JSON object"),
    rpost(
        b"--b\r\nContent-Disposition: form-data; name=operation\r\n",
        "",
        "multipart/form-data; boundary=b",
    ),
    rpost(b"garbage", "body is not a readable form", "multipart/form-data; boundary=b"),
    Bad("POST", "/api/v1/tasks/assign", f'{{"ids": {DEEP}}}'.encode(), "nested too deeply"),
    Bad("POST", "/api/v1/login", b'{"username":"\xff","password":"x"}', "body is not UTF-8"),
    Bad("POST", "/api/v1/users", b'{"name":' + b"9" * 5000 + b"}", "4300 digits"),
    Bad("POST", "/api/v1/tasks/assign", b'{"ids":["a"],"user":NaN}', "body.user"),
    Bad("POST", "/api/v1/tasks/claim-next", b'{"type":["x"]}', "body.type"),
    Bad("GET", "/api/v1/tasks?limit=1e400", None, "query.limit"),
    Bad("GET", "/api/v1/no-such-path", None, "no such path", expected_status=404),
    Bad("GET", "/api/v1/tasks?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTp6eg", None, "cursor"),
    Bad("GET", "/api/v1/tasks?cursor=LTk5OTk5OTk5OTk5OTk5OTk5OTk5OmE", None, "cursor"),
    Bad("GET", "/api/v1/tasks?cursor=MV8wMDA6YQ", None, "cursor"),  # "1_000:a"
    Bad("GET", "/api/v1/dead-letters?cursor=99999999999999999999999999", None, "cursor"),
    Bad("GET", "/api/v1/dead-letters?cursor=%D9%A3", None, "cursor"),  # '٣', an Arabic 3
    Bad("GET", "/api/v1/dead-letters?cursor=" + "9" * 5000, None, "cursor"),
]


def test_bad_input_answers_1000_and_keeps_the_connection(server: LiveServer) -> None:
    cookie = f"taskdash_session={seed(server).tokens['admin']}"
    conn = http.client.HTTPConnection("127.0.0.1", server.settings.port, timeout=30)
    try:
        for bad in BAD_INPUT:
            headers = {"Cookie": cookie, "Content-Type": bad.content_type}
            conn.request(bad.method, bad.path, body=bad.body, headers=headers)
            answer = conn.getresponse()
            body = json.loads(answer.read())
            socket_before = conn.sock
            expected_status = 200 if bad.path.startswith("/rpost/") else bad.expected_status
            assert (answer.status, body["errid"]) == (expected_status, 1000), (bad, body)
            assert body["errmsg"] == "请求格式不正确", body  # the seed's text; detail says why
            assert bad.detail in body.get("detail", ""), (bad, body)
            conn.request("GET", "/healthz")
            after = conn.getresponse()
            assert after.status == 200 and after.read() == b'{"status":"ok"}', bad
            assert conn.sock is socket_before, f"connection dropped after {bad}"
    finally:
        conn.close()
