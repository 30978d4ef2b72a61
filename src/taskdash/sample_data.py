"""Sample data for the demo: the seed document's tasks (with 127.0.0.1 URLs) and a few more."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from taskdash.actions import accounts
from taskdash.domain.models import Role
from taskdash.domain.ports import Store
from taskdash.messaging.handlers import InboundMessage, MessageHandler

SAT_EDIT_URL = "http://127.0.0.1:18081"
VID_EDIT_URL = "http://127.0.0.1:18082"

# (ID, ProjectID, InstanceID, TaskID, TaskType, Status, CreateTime) as in the seed's examples.
SEED_TASKS: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    (
        "9cf4db018beecb08a1f27678798c0653",
        "p1",
        "i1",
        "20200311_0000001_111111",
        "vidEdit",
        "待领取",
        1596792596,
    ),
    (
        "777417adfc7aaa032537e75b025ab267",
        "projectID",
        "instanceID",
        "0210232_1220_1222_022",
        "satEdit",
        "编辑中",
        1595827431,
    ),
    (
        "7c1c5ed25bf0c827bd8ddcb1091fad1c",
        "projectID",
        "instanceID",
        "0210232_1220_1222_0222",
        "satEdit",
        "编辑中",
        1595813604,
    ),
    (
        "24079070c4f1a4bc9b57070ae831514f",
        "projectID",
        "instanceID",
        "20200311_0000001_111111",
        "vidEdit",
        "待领取",
        1596174701,
    ),
    (
        "fdbcc3906f2c619394b94d636af353a5",
        "p1",
        "i1",
        "0210232_1220_1222_0222",
        "satEdit",
        "待领取",
        1596764687,
    ),
    (
        "d8b6efc3ee308ef3ea1284b9dfc79df8",
        "projectID",
        "instanceID",
        "0210232_1220_1222_020",
        "satEdit",
        "待领取",
        1597116419,
    ),
)

DEMO_ACCOUNTS: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.ADMIN, ""),
    ("manager", Role.MANAGER, ""),
    ("checker", Role.CHECKER, "team-a"),
    ("annotator", Role.ANNOTATOR, "team-a"),
    ("smq", Role.ANNOTATOR, "team-a"),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    name: str
    role: Role
    password: str


def _task_body(
    task_id: str, project: str, instance: str, number: str, kind: str, status: str, created: int
) -> bytes:
    url = SAT_EDIT_URL if kind == "satEdit" else VID_EDIT_URL
    return json.dumps(
        {
            "ID": task_id,
            "ProjectID": project,
            "InstanceID": instance,
            "TaskID": number,
            "TaskType": kind,
            "Status": status,
            "URL": f"{url}/edit/{number}",
            "EditInfo": "",
            "CreateTime": created,
        },
        ensure_ascii=False,
    ).encode()


def sample_messages(*, extra_tasks: int = 40) -> list[InboundMessage]:
    """Two services, their heartbeats, the seed's tasks and `extra_tasks` generated ones."""
    now_ns = time.time_ns()
    messages = [
        InboundMessage(
            "serviceRegister",
            json.dumps({"URL": f"{url}/TaskDash/", "Name": name, "Reserved": ""}).encode(),
            now_ns,
        )
        for url, name in ((SAT_EDIT_URL, "satEdit"), (VID_EDIT_URL, "vidEdit"))
    ]
    messages += [
        InboundMessage(
            "heartBeat",
            json.dumps(
                {"url": f"{url}/TaskDash/", "time": now_ns // 10**9, "reserved": ""}
            ).encode(),
            now_ns + 1,
        )
        for url in (SAT_EDIT_URL, VID_EDIT_URL)
    ]
    messages += [
        InboundMessage("taskRegister", _task_body(*task), now_ns + 2 + i)
        for i, task in enumerate(SEED_TASKS)
    ]
    base = int(time.time()) - extra_tasks * 600
    for i in range(extra_tasks):
        kind = "satEdit" if i % 3 else "vidEdit"
        body = _task_body(
            "", f"proj-{1 + i % 4}", f"inst-{i // 4:03d}", f"demo_{i:05d}", kind, "", base + i * 600
        )
        messages.append(InboundMessage("taskRegister", body, now_ns + 100 + i))
    return messages


async def load_sample_data(*, store: Store, handler: MessageHandler) -> list[DemoAccount]:
    """Create the demo accounts (fresh random passwords) and ingest the sample messages."""
    created = []
    for name, role, group in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        await accounts.create_user(
            store=store, name=name, role=role, password=password, group=group
        )
        created.append(DemoAccount(name, role, password))
    await handler.handle_batch(sample_messages())
    return created
