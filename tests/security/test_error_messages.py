"""Error texts are consistent: one "<where>: <what>" style for dead-letter reasons, no doubled
prefix, seed errmsg texts unchanged and the explanation in `detail`."""

from __future__ import annotations

import re

from tests.security.fuzzing import seed
from tests.support import LiveServer, task_body

REASON = re.compile(r"(invalid JSON|body|field [A-Za-z]+): [^:\s]")
MALFORMED = [
    b'{"ProjectID": NaN}',
    b'{"ProjectID": "p", "CreateTime": Infinity}',
    b"[" * 100_000,
    b"{",
    b"[1, 2]",
    b'"text"',
    b'{"ProjectID": 1}',
    b'{"ProjectID":"p","InstanceID":"i","TaskID":"t"}',
    b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","CreateTime":1.5}',
    b'{"ProjectID":"p","InstanceID":"i","TaskID":"t","TaskType":"x","URL":"ftp://h/"}',
]


def test_dead_letter_reasons_have_one_prefix(server: LiveServer) -> None:
    admin = server.client(cookies=seed(server).cookies("admin"))
    for body in MALFORMED:
        assert server.pub("taskRegister", body).text == "OK"
    letters = admin.get("/api/v1/dead-letters", params={"limit": 100}).json()["items"]
    reasons = {letter["body"][:40]: letter["reason"] for letter in letters}
    assert reasons['{"ProjectID": NaN}'] == "invalid JSON: NaN is not a JSON value"
    for reason in reasons.values():
        assert REASON.match(reason), reason
        assert reason.count("invalid JSON") <= 1, reason


def test_a_strategy_without_a_group_says_so(server: LiveServer) -> None:
    manager = server.client(cookies=seed(server).cookies("manager"))
    server.publish("taskRegister", [task_body("s1")])
    listed = manager.get("/api/v1/tasks").json()["items"]
    answer = manager.post(
        "/api/v1/tasks/assign", json={"ids": [listed[0]["ID"]], "strategy": "round_robin"}
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "errid": 1000,
        "errmsg": "请求格式不正确",  # the seed's text, unchanged (SPEC §7.3)
        "detail": "give a group for a strategy",
    }
