"""The seed document's examples (section 二 and 三), answer for answer, on `POST /rpost/task`.

The seed's LAN addresses are 127.0.0.1 here, and its invalid `"EditInfo",` is `"EditInfo":""`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any

import httpx
import pytest

from taskdash.actions import accounts
from taskdash.domain.models import Role, User
from taskdash.sample_data import SEED_TASKS
from tests.support import PASSWORD, LiveServer, run_on_store, task_body

SEED_URL = "https://127.0.0.1:8080"
COMPAT_KEYS = [
    "ID",
    "ProjectID",
    "InstanceID",
    "TaskID",
    "TaskType",
    "URL",
    "Status",
    "CreateTime",
    "User",
    "Checker",
    "Group",
    "Reserved",
]
ERRMSG = {
    1000: "请求格式不正确",
    1003: "用户名或密码错误",
    1004: "未登录或会话已过期",
    1005: "权限不足",
}

# Section 三's request examples (the login's cookie values are our test user's).
SEED_REQUESTS: dict[str, dict[str, str]] = {
    "userLogin": {"operation": "userLogin", "username": "smq", "password": PASSWORD},
    "GetTasksNoUser": {"operation": "GetTasksNoUser"},
    "GetTasksByUser": {"operation": "GetTasksByUser", "user": "smq"},
    "TaskBind": {"operation": "TaskBind", "user": "smq"},
    "GetTasksByStatus": {"operation": "GetTasksByStatus", "status": "编辑中"},
}

# Section 二's NSQ bodies, verbatim but for the address and the missing EditInfo value.
SEED_SERVICE_REGISTER = (
    '{"URL":"https://127.0.0.1:8080/TaskDash/","Name":"annotator","Reserved":""}'
)
SEED_TASK_REGISTER = (
    '{"ID":"d8b6efc3ee308ef3ea1284b9dfc79df8","ProjectID":"projectID","InstanceID":"instanceID",'
    '"TaskID":"0210232_1220_1222_020","TaskType":"satEdit","Status":"待领取",'
    '"URL":"https://127.0.0.1:8080","EditInfo":"","CreateTime":1597116419}'
)
SEED_UPDATE_STATUS = SEED_TASK_REGISTER.replace('"待领取"', '"编辑中"')
SEED_HEARTBEAT = '{"url":"http://localhost:8080/rpost/test","time":1594885152,"reserved":"no"}'
# The seed's taskRegister exactly as printed: not JSON, so it must be dead-lettered.
SEED_TASK_REGISTER_AS_PRINTED = SEED_TASK_REGISTER.replace('"EditInfo":""', '"EditInfo"')

# Section 三 2.3: the answer of GetTasksNoUser, byte for byte.
SEED_NO_USER_ANSWER = (
    '[{"ID":"9cf4db018beecb08a1f27678798c0653","ProjectID":"p1","InstanceID":"i1",'
    '"TaskID":"20200311_0000001_111111","TaskType":"vidEdit","URL":"https://127.0.0.1:8080",'
    '"Status":"待领取","CreateTime":1596792596,"User":"","Checker":"","Group":"","Reserved":""}]'
)
# Section 三 5.3: the answer of GetTasksByStatus 编辑中 (the user is ours: smq).
SEED_BY_STATUS_ANSWER = (
    '[{"ID":"777417adfc7aaa032537e75b025ab267","ProjectID":"projectID",'
    '"InstanceID":"instanceID","TaskID":"0210232_1220_1222_022","TaskType":"satEdit",'
    '"URL":"https://127.0.0.1:8080","Status":"编辑中","CreateTime":1595827431,"User":"smq",'
    '"Checker":"","Group":"","Reserved":""},'
    '{"ID":"7c1c5ed25bf0c827bd8ddcb1091fad1c","ProjectID":"projectID",'
    '"InstanceID":"instanceID","TaskID":"0210232_1220_1222_0222","TaskType":"satEdit",'
    '"URL":"https://127.0.0.1:8080","Status":"编辑中","CreateTime":1595813604,"User":"smq",'
    '"Checker":"","Group":"","Reserved":""}]'
)

# The seed's IDs by name, for readable assertions.
ID_9CF4 = "9cf4db018beecb08a1f27678798c0653"  # p1 vidEdit 待领取 1596792596
ID_7774 = "777417adfc7aaa032537e75b025ab267"  # projectID satEdit 编辑中 1595827431
ID_7C1C = "7c1c5ed25bf0c827bd8ddcb1091fad1c"  # projectID satEdit 编辑中 1595813604
ID_2407 = "24079070c4f1a4bc9b57070ae831514f"  # projectID vidEdit 待领取 1596174701
ID_FDBC = "fdbcc3906f2c619394b94d636af353a5"  # p1 satEdit 待领取 1596764687
ID_D8B6 = "d8b6efc3ee308ef3ea1284b9dfc79df8"  # projectID satEdit 待领取 1597116419

ENCODINGS = ["json", "form"]


def post(client: httpx.Client, params: dict[str, Any], encoding: str = "json") -> httpx.Response:
    """POST /rpost/task as the seed's AjaxTool would, as JSON or as a form."""
    if encoding == "json":
        answer = client.post("/rpost/task", json=params)
    else:
        answer = client.post("/rpost/task", data=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer


def assert_error(answer: httpx.Response, errid: int) -> None:
    """The seed's error shape, always with HTTP 200."""
    assert answer.status_code == 200
    body = answer.json()
    assert isinstance(body, dict), body
    assert body["errid"] == errid, body
    if errid in ERRMSG:
        assert body["errmsg"] == ERRMSG[errid]
    assert set(body) <= {"errid", "errmsg", "detail"}


def assert_task_list(answer: httpx.Response) -> list[dict[str, Any]]:
    """An array of objects with exactly the seed's 12 keys, in the seed's order."""
    tasks = answer.json()
    assert isinstance(tasks, list), tasks
    for task in tasks:
        assert list(task) == COMPAT_KEYS
        assert isinstance(task["CreateTime"], int)
        assert all(isinstance(task[k], str) for k in COMPAT_KEYS if k != "CreateTime")
    return tasks


def seed_task_bodies(*, with_ids: bool = False) -> list[dict[str, Any]]:
    """The six seed tasks as a service would publish them, by default with an empty ID."""
    return [
        task_body(
            number,
            status=status,
            task_type=kind,
            project=project,
            instance=instance,
            created=created,
            url=SEED_URL,
            given_id=task_id if with_ids else "",
        )
        for task_id, project, instance, number, kind, status, created in SEED_TASKS
    ]


def ids(tasks: list[dict[str, Any]]) -> list[str]:
    return [t["ID"] for t in tasks]


@functools.cache
def password_hash() -> str:
    return asyncio.run(accounts.hash_password(PASSWORD))


def add_users(server: LiveServer, *users: tuple[str, str]) -> None:
    """Create (name, role) accounts with PASSWORD, hashing it once (argon2 is slow on purpose)."""
    hashed = password_hash()

    async def add(store: Any) -> None:
        for name, role in users:
            user = User(name, Role.parse(role), hashed, created_at=time.time())
            await store.accounts.add_user(user)

    run_on_store(server.settings, add)


@pytest.fixture
def seeded(server: LiveServer) -> LiveServer:
    """The six seed tasks published with empty IDs; users smq (annotator) and mgr (manager)."""
    add_users(server, ("smq", "annotator"), ("mgr", "manager"))
    server.publish("taskRegister", seed_task_bodies())
    return server


def give_smq_the_editing_tasks(mgr: httpx.Client) -> None:
    """As in the seed: smq holds the two 编辑中 tasks."""
    answer = post(mgr, {"operation": "TaskAssign", "IDs": [ID_7774, ID_7C1C], "user": "smq"})
    assert answer.json() == "success"


# --- 三.1 userLogin -----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_user_login_answers_the_json_string_success_and_a_session(
    server: LiveServer, encoding: str
) -> None:
    add_users(server, ("smq", "annotator"))
    client = server.client()
    answer = post(client, SEED_REQUESTS["userLogin"], encoding)
    assert answer.text == '"success"'
    assert "taskdash_session" in client.cookies
    assert assert_task_list(post(client, SEED_REQUESTS["GetTasksNoUser"], encoding)) == []


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_user_login_with_a_wrong_password_is_errid_1003(server: LiveServer, encoding: str) -> None:
    add_users(server, ("smq", "annotator"))
    client = server.client()
    params = {**SEED_REQUESTS["userLogin"], "password": "not the password"}
    assert_error(post(client, params, encoding), 1003)
    assert "taskdash_session" not in client.cookies


def test_every_other_operation_needs_a_session(server: LiveServer) -> None:
    anonymous = server.client()
    for operation in ("GetTasksNoUser", "GetTasksByUser", "TaskBind", "GetTasksByStatus"):
        for encoding in ENCODINGS:
            assert_error(post(anonymous, SEED_REQUESTS[operation], encoding), 1004)
    for operation in ("TaskAssign", "TaskRelease"):
        assert_error(post(anonymous, {"operation": operation, "ID": ID_D8B6}), 1004)


def test_a_malformed_request_is_errid_1000(server: LiveServer) -> None:
    anonymous = server.client()
    for body in ({"operation": "NoSuchOperation"}, {"username": "smq"}, {"operation": ""}):
        for encoding in ENCODINGS:
            assert_error(post(anonymous, body, encoding), 1000)


def test_a_body_that_is_neither_json_nor_a_form_is_errid_1000(server: LiveServer) -> None:
    answer = server.client().post(
        "/rpost/task", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(answer, 1000)


# --- 三.2 GetTasksNoUser ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_no_user_answers_the_seed_example_byte_for_byte(
    server: LiveServer, encoding: str
) -> None:
    add_users(server, ("smq", "annotator"))
    smq = server.login("smq")
    assert post(smq, SEED_REQUESTS["GetTasksNoUser"], encoding).text == "[]"
    (seed_9cf4,) = [
        b for b in seed_task_bodies() if b["TaskType"] == "vidEdit" and b["ProjectID"] == "p1"
    ]
    server.publish("taskRegister", [seed_9cf4])
    assert post(smq, SEED_REQUESTS["GetTasksNoUser"], encoding).text == SEED_NO_USER_ANSWER


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_no_user_lists_claimable_tasks_oldest_first(
    seeded: LiveServer, encoding: str
) -> None:
    smq = seeded.login("smq")
    tasks = assert_task_list(post(smq, SEED_REQUESTS["GetTasksNoUser"], encoding))
    assert ids(tasks) == [ID_2407, ID_FDBC, ID_9CF4, ID_D8B6]
    assert {t["Status"] for t in tasks} == {"待领取"}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_no_user_pages_with_limit_and_offset(seeded: LiveServer, encoding: str) -> None:
    smq = seeded.login("smq")
    page = {**SEED_REQUESTS["GetTasksNoUser"], "limit": "2", "offset": "1"}
    assert ids(assert_task_list(post(smq, page, encoding))) == [ID_FDBC, ID_9CF4]
    beyond = {**SEED_REQUESTS["GetTasksNoUser"], "offset": "10"}
    assert post(smq, beyond, encoding).text == "[]"
    assert_error(post(smq, {**SEED_REQUESTS["GetTasksNoUser"], "limit": "-1"}, encoding), 1000)
    assert_error(post(smq, {**SEED_REQUESTS["GetTasksNoUser"], "limit": "two"}, encoding), 1000)


NO_USER_FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"TaskType": "vidEdit"}, [ID_2407, ID_9CF4]),
    ({"TaskType": "satEdit"}, [ID_FDBC, ID_D8B6]),
    ({"ProjectID": "p1"}, [ID_FDBC, ID_9CF4]),
    ({"ProjectID": "p1", "TaskType": "vidEdit"}, [ID_9CF4]),
    ({"TaskType": "noSuchEditor"}, []),
]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_no_user_filters_by_task_type_and_project(
    seeded: LiveServer, encoding: str
) -> None:
    smq = seeded.login("smq")
    for filters, expected in NO_USER_FILTERS:
        answer = post(smq, {**SEED_REQUESTS["GetTasksNoUser"], **filters}, encoding)
        assert ids(assert_task_list(answer)) == expected, filters


def test_tasks_published_without_an_id_get_the_seeds_md5_id(seeded: LiveServer) -> None:
    mgr = seeded.login("mgr")
    listed = []
    for status in ("待领取", "编辑中"):
        listed += assert_task_list(post(mgr, {"operation": "GetTasksByStatus", "status": status}))
    assert sorted(ids(listed)) == sorted(task[0] for task in SEED_TASKS)
    by_id = {t["ID"]: t for t in listed}
    for task_id, project, instance, number, kind, status, created in SEED_TASKS:
        assert by_id[task_id] == {
            "ID": task_id,
            "ProjectID": project,
            "InstanceID": instance,
            "TaskID": number,
            "TaskType": kind,
            "URL": SEED_URL,
            "Status": status,
            "CreateTime": created,
            "User": "",
            "Checker": "",
            "Group": "",
            "Reserved": "",
        }


def test_a_given_id_and_the_derived_one_name_the_same_task(seeded: LiveServer) -> None:
    seeded.publish("taskRegister", seed_task_bodies(with_ids=True))
    mgr = seeded.login("mgr")
    assert (
        len(assert_task_list(post(mgr, {"operation": "GetTasksByStatus", "status": "待领取"}))) == 4
    )


# --- 三.3 GetTasksByUser ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_by_user_answers_that_users_tasks_newest_first(
    seeded: LiveServer, encoding: str
) -> None:
    smq, mgr = seeded.login("smq"), seeded.login("mgr")
    assert post(smq, SEED_REQUESTS["GetTasksByUser"], encoding).text == "[]"
    give_smq_the_editing_tasks(mgr)
    assert post(smq, {"operation": "TaskBind", "ID": ID_FDBC}, encoding).json() == "success"
    tasks = assert_task_list(post(smq, SEED_REQUESTS["GetTasksByUser"], encoding))
    assert ids(tasks) == [ID_FDBC, ID_7774, ID_7C1C]
    assert tasks[1] == {
        "ID": ID_7774,
        "ProjectID": "projectID",
        "InstanceID": "instanceID",
        "TaskID": "0210232_1220_1222_022",
        "TaskType": "satEdit",
        "URL": SEED_URL,
        "Status": "编辑中",
        "CreateTime": 1595827431,
        "User": "smq",
        "Checker": "",
        "Group": "",
        "Reserved": "",
    }
    assert [t["Status"] for t in tasks] == ["已领取", "编辑中", "编辑中"]
    # Without `user` it is the caller; a manager may name smq.
    assert ids(post(smq, {"operation": "GetTasksByUser"}, encoding).json()) == ids(tasks)
    assert ids(post(mgr, SEED_REQUESTS["GetTasksByUser"], encoding).json()) == ids(tasks)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_by_user_pages_with_limit_and_offset(seeded: LiveServer, encoding: str) -> None:
    smq, mgr = seeded.login("smq"), seeded.login("mgr")
    give_smq_the_editing_tasks(mgr)
    post(smq, {"operation": "TaskBind", "ID": ID_FDBC}, encoding)
    page = {**SEED_REQUESTS["GetTasksByUser"], "limit": 1, "offset": 1}
    assert ids(post(smq, page, encoding).json()) == [ID_7774]


# --- 三.4 TaskBind ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_task_bind_without_an_id_claims_the_oldest_claimable_task(
    seeded: LiveServer, encoding: str
) -> None:
    smq = seeded.login("smq")
    answer = post(smq, SEED_REQUESTS["TaskBind"], encoding)
    assert answer.text == '"success"'
    (task,) = assert_task_list(post(smq, SEED_REQUESTS["GetTasksByUser"], encoding))
    assert (task["ID"], task["Status"], task["User"]) == (ID_2407, "已领取", "smq")
    assert ID_2407 not in ids(post(smq, SEED_REQUESTS["GetTasksNoUser"], encoding).json())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_task_bind_claims_the_named_task_once(seeded: LiveServer, encoding: str) -> None:
    add_users(seeded, ("bob", "annotator"))
    smq, bob = seeded.login("smq"), seeded.login("bob")
    assert post(smq, {"operation": "TaskBind", "ID": ID_D8B6}, encoding).json() == "success"
    assert_error(post(bob, {"operation": "TaskBind", "ID": ID_D8B6}, encoding), 1007)
    # 编辑中 and nobody's: never in an annotator's lists, so it answers as a missing task.
    assert_error(post(bob, {"operation": "TaskBind", "ID": ID_7774}, encoding), 1006)
    assert_error(post(bob, {"operation": "TaskBind", "ID": "no-such-task"}, encoding), 1006)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_task_bind_filters_claim_next_by_task_type(seeded: LiveServer, encoding: str) -> None:
    smq = seeded.login("smq")
    bind = {**SEED_REQUESTS["TaskBind"], "TaskType": "satEdit"}
    assert post(smq, bind, encoding).json() == "success"
    assert ids(post(smq, SEED_REQUESTS["GetTasksByUser"], encoding).json()) == [ID_FDBC]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_task_release_returns_the_task(seeded: LiveServer, encoding: str) -> None:
    smq = seeded.login("smq")
    post(smq, {"operation": "TaskBind", "ID": ID_D8B6}, encoding)
    answer = post(smq, {"operation": "TaskRelease", "ID": ID_D8B6}, encoding)
    assert answer.json() == "success"
    assert post(smq, SEED_REQUESTS["GetTasksByUser"], encoding).text == "[]"
    assert ID_D8B6 in ids(post(smq, SEED_REQUESTS["GetTasksNoUser"], encoding).json())


def test_task_assign_takes_ids_as_a_json_list_or_repeated_form_fields(seeded: LiveServer) -> None:
    mgr = seeded.login("mgr")
    answer = post(mgr, {"operation": "TaskAssign", "IDs": [ID_2407], "checker": "smq"})
    assert answer.json() == "success"
    answer = post(
        mgr, {"operation": "TaskAssign", "IDs": [ID_FDBC, ID_9CF4], "checker": "smq"}, "form"
    )
    assert answer.json() == "success"
    answer = post(
        mgr, {"operation": "TaskAssign", "IDs": f"{ID_D8B6},{ID_7774}", "checker": "smq"}, "form"
    )
    assert answer.json() == "success"
    listed = post(mgr, {"operation": "GetTasksNoUser"}).json()
    assert {t["Checker"] for t in listed} == {"smq"}


# --- 三.5 GetTasksByStatus ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_get_tasks_by_status_answers_the_seed_example(seeded: LiveServer, encoding: str) -> None:
    smq, mgr = seeded.login("smq"), seeded.login("mgr")
    # An annotator sees only their own tasks in a working status.
    assert post(smq, SEED_REQUESTS["GetTasksByStatus"], encoding).text == "[]"
    assert ids(post(mgr, SEED_REQUESTS["GetTasksByStatus"], encoding).json()) == [
        ID_7774,
        ID_7C1C,
    ]
    give_smq_the_editing_tasks(mgr)
    answer = post(smq, SEED_REQUESTS["GetTasksByStatus"], encoding)
    assert_task_list(answer)
    assert answer.text == SEED_BY_STATUS_ANSWER


def test_get_tasks_by_status_needs_a_status(seeded: LiveServer) -> None:
    assert_error(post(seeded.login("smq"), {"operation": "GetTasksByStatus"}), 1000)


def test_get_tasks_by_status_is_newest_first_for_an_annotator_too(seeded: LiveServer) -> None:
    """SPEC §7.1: tasks in that status, newest first — whatever the caller's role."""
    smq, mgr = seeded.login("smq"), seeded.login("mgr")
    unclaimed = {"operation": "GetTasksByStatus", "status": "待领取"}
    newest_first = [ID_D8B6, ID_9CF4, ID_FDBC, ID_2407]
    assert ids(post(mgr, unclaimed).json()) == newest_first
    assert ids(post(smq, unclaimed).json()) == newest_first


def test_get_tasks_by_status_offset_counts_over_everything_the_caller_sees(
    seeded: LiveServer,
) -> None:
    """A checker sees their own tasks and those they check; offset skips over both together."""
    add_users(seeded, ("chk", "checker"))
    chk, mgr = seeded.login("chk"), seeded.login("mgr")
    assert post(mgr, {"operation": "TaskAssign", "ID": ID_7774, "user": "chk"}).json() == "success"
    assert (
        post(
            mgr, {"operation": "TaskAssign", "ID": ID_7C1C, "user": "smq", "checker": "chk"}
        ).json()
        == "success"
    )
    everything = ids(post(chk, SEED_REQUESTS["GetTasksByStatus"]).json())
    assert everything == [ID_7774, ID_7C1C]
    page = {**SEED_REQUESTS["GetTasksByStatus"], "limit": 1, "offset": 1}
    assert ids(post(chk, page).json()) == [ID_7C1C]


# --- 二. NSQ examples, through HTTP ingest --------------------------------------------------


def test_the_seeds_nsq_examples_published_through_pub(server: LiveServer) -> None:
    add_users(server, ("mgr", "manager"))
    for topic, body in (
        ("serviceRegister", SEED_SERVICE_REGISTER),
        ("taskRegister", SEED_TASK_REGISTER),
        ("heartBeat", SEED_HEARTBEAT),
    ):
        answer = server.pub(topic, body)
        assert (answer.status_code, answer.text) == (200, "OK")
    mgr = server.login("mgr")

    (task,) = assert_task_list(post(mgr, {"operation": "GetTasksNoUser"}))
    assert (task["ID"], task["Status"], task["URL"]) == (ID_D8B6, "待领取", SEED_URL)

    assert server.pub("updateStatus", SEED_UPDATE_STATUS).text == "OK"
    assert post(mgr, {"operation": "GetTasksNoUser"}).text == "[]"
    (task,) = assert_task_list(post(mgr, SEED_REQUESTS["GetTasksByStatus"]))
    assert (task["ID"], task["Status"]) == (ID_D8B6, "编辑中")

    services = mgr.get("/api/v1/services").json()
    (service,) = services["services"]
    assert (service["url"], service["name"], service["online"]) == (
        "https://127.0.0.1:8080/TaskDash",
        "annotator",
        True,
    )
    # The seed's heartbeat comes from localhost, which is no registered service: counted, shown.
    assert services["unknown_heartbeats"] == {"http://localhost:8080/rpost/test": 1}


def test_the_seeds_heartbeat_for_a_registered_service_counts_but_flags_its_clock(
    server: LiveServer,
) -> None:
    add_users(server, ("mgr", "manager"))
    assert server.pub("serviceRegister", SEED_SERVICE_REGISTER).text == "OK"
    beat = json.loads(SEED_HEARTBEAT)
    beat["url"] = "https://127.0.0.1:8080/TaskDash/"
    assert server.pub("heartBeat", beat).text == "OK"
    (service,) = server.login("mgr").get("/api/v1/services").json()["services"]
    assert service["online"] is True
    assert service["last_heartbeat_sender_time"] == 1594885152
    assert service["last_heartbeat"] is not None
    # Sent in 2020, received now: far more than max_clock_skew_s apart.
    assert service["clock_skew"] is True


def test_the_seeds_task_register_as_printed_is_dead_lettered_not_dropped(
    server: LiveServer,
) -> None:
    add_users(server, ("adm", "admin"))
    answer = server.pub("taskRegister", SEED_TASK_REGISTER_AS_PRINTED)
    assert (answer.status_code, answer.text) == (200, "OK")
    adm = server.login("adm")
    assert post(adm, {"operation": "GetTasksNoUser"}).text == "[]"
    letters = adm.get("/api/v1/dead-letters").json()
    (letter,) = letters["items"]
    assert (letter["topic"], letter["body"]) == ("taskRegister", SEED_TASK_REGISTER_AS_PRINTED)
    assert "JSON" in letter["reason"]


def test_register_and_update_in_either_order_end_in_the_updates_status(
    server: LiveServer,
) -> None:
    add_users(server, ("mgr", "manager"))
    server.publish("updateStatus", [SEED_UPDATE_STATUS])
    server.publish("taskRegister", [SEED_TASK_REGISTER])
    (task,) = assert_task_list(post(server.login("mgr"), SEED_REQUESTS["GetTasksByStatus"]))
    assert task["ID"] == ID_D8B6
