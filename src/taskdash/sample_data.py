"""Sample data for the demo: demo accounts and the seed document's tasks (on 127.0.0.1)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from taskdash.actions import accounts
from taskdash.domain.models import Role
from taskdash.messaging.handlers import InboundMessage, MessageHandler

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


def seed_task_bodies(service_urls: dict[str, str]) -> list[dict[str, str | int]]:
    """The seed's six tasks as a service publishes them, pointing at the sample services
    (`task type -> base URL`)."""
    return [
        {
            "ID": task_id,
            "ProjectID": project,
            "InstanceID": instance,
            "TaskID": number,
            "TaskType": kind,
            "Status": status,
            "URL": f"{service_urls[kind]}/edit/{number}",
            "EditInfo": "",
            "CreateTime": created,
        }
        for task_id, project, instance, number, kind, status, created in SEED_TASKS
    ]


def seed_task_messages(service_urls: dict[str, str]) -> list[InboundMessage]:
    """The seed's six tasks as taskRegister messages, in the seed's order."""
    now_ns = time.time_ns()
    return [
        InboundMessage("taskRegister", json.dumps(body).encode(), now_ns + i)
        for i, body in enumerate(seed_task_bodies(service_urls))
    ]


async def create_demo_accounts(*, store: accounts.AccountStore) -> list[DemoAccount]:
    """The demo accounts, each with a fresh random password."""
    created = []
    for name, role, group in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        await accounts.create_user(
            store=store, name=name, role=role, password=password, group=group
        )
        created.append(DemoAccount(name, role, password))
    return created


async def load_sample_data(
    *, store: accounts.AccountStore, handler: MessageHandler, service_urls: dict[str, str]
) -> list[DemoAccount]:
    created = await create_demo_accounts(store=store)
    await handler.handle_batch(seed_task_messages(service_urls))
    return created
