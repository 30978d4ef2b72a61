"""A message never blanks a service-owned field it does not carry (SPEC §3, issue 10 item 14)."""

from __future__ import annotations

from typing import Any

from tests.support import SERVICE_URL, LiveServer, task_body, task_id_of

REQUIRED_ONLY = {"ProjectID": "p1", "InstanceID": "i1", "TaskID": "0001", "TaskType": "satEdit"}
REGISTERED = task_body(
    "0001", url=f"{SERVICE_URL}/edit/0001", EditInfo="box 1", created=1_596_174_701
)


def detail(server: LiveServer, task_id: str) -> dict[str, Any]:
    server.add_user("boss", "manager")
    answer = server.login("boss").get(f"/api/v1/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    task: dict[str, Any] = answer.json()["task"]
    return task


def pub(server: LiveServer, topic: str, body: dict[str, Any]) -> None:
    answer = server.pub(topic, body)
    assert (answer.status_code, answer.text) == (200, "OK")


def test_update_with_only_the_required_fields_blanks_nothing(server: LiveServer) -> None:
    pub(server, "taskRegister", REGISTERED)
    pub(server, "updateStatus", REQUIRED_ONLY)
    task = detail(server, task_id_of(REGISTERED))
    assert (task["URL"], task["EditInfo"], task["CreateTime"]) == (
        f"{SERVICE_URL}/edit/0001",
        "box 1",
        1_596_174_701,
    )


def test_nulls_blank_nothing_either(server: LiveServer) -> None:
    pub(server, "taskRegister", REGISTERED)
    pub(
        server, "updateStatus", {**REQUIRED_ONLY, "URL": None, "EditInfo": None, "CreateTime": None}
    )
    task = detail(server, task_id_of(REGISTERED))
    assert (task["URL"], task["EditInfo"], task["CreateTime"]) == (
        f"{SERVICE_URL}/edit/0001",
        "box 1",
        1_596_174_701,
    )


def test_a_register_without_optional_keys_keeps_them_too(server: LiveServer) -> None:
    server.publish("taskRegister", [REGISTERED, {**REQUIRED_ONLY, "Status": "编辑中"}])
    task = detail(server, task_id_of(REGISTERED))
    assert (task["URL"], task["EditInfo"], task["Status"]) == (
        f"{SERVICE_URL}/edit/0001",
        "box 1",
        "待领取",  # a register for a known task never changes its status
    )


def test_explicit_empty_values_do_blank(server: LiveServer) -> None:
    server.publish(
        "updateStatus",
        [
            REGISTERED,
            {**REQUIRED_ONLY, "Status": "编辑中", "URL": "", "EditInfo": "", "CreateTime": 0},
        ],
    )
    task = detail(server, task_id_of(REGISTERED))
    assert (task["URL"], task["EditInfo"], task["CreateTime"], task["Status"]) == (
        "",
        "",
        0,
        "编辑中",
    )
