"""Realistic data for the page tour and screenshots: services, heartbeats, tasks, people."""

from __future__ import annotations

import time
from typing import Any

from tests.support import LiveServer, free_port, run_on_store, task_body, task_id_of
from tests.web.browsing import add_user, off_loop

PROJECTS = ("coast-2024q2", "city-roads", "traffic-cam-07")
USERS = (
    ("admin", "admin", ""),
    ("wangfang", "manager", ""),
    ("chenjing", "checker", "team-a"),
    ("smq", "annotator", "team-a"),
    ("lixin", "annotator", "team-a"),
    ("zhaolei", "annotator", "team-b"),
    ("liuyang", "annotator", "team-b"),
)
SAT_TASKS = 26
VID_TASKS = 12
OFFLINE_TASKS = 3


def _tasks(
    prefix: str, count: int, *, task_type: str, url: str, now: int, step_s: int
) -> list[dict[str, Any]]:
    bodies = []
    for i in range(count):
        task_id = f"{prefix}_{1000 + i * 37:07d}_{(i * 7919) % 100000:05d}"
        bodies.append(
            task_body(
                task_id,
                task_type=task_type,
                project=PROJECTS[i % len(PROJECTS)],
                instance=f"inst-{(i % 4) + 1:02d}",
                created=now - i * step_s - (i * 53) % 240,
                url=f"{url}/edit?task={task_id}",
            )
        )
    return bodies


def load_sample_data(server: LiveServer, *, sat_url: str) -> dict[str, Any]:
    """Fill `server` as a working day would; `sat_url` is a live service answering metadata
    pulls. Returns what the page tour needs to know."""
    now = int(time.time())
    vid_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: a visible metadata error
    pcd_url = f"http://127.0.0.1:{free_port()}"
    for name, role, group in USERS:
        add_user(server, name, role, group=group)
    server.publish(
        "serviceRegister",
        [
            {"URL": sat_url, "Name": "satEdit", "Reserved": ""},
            {"URL": vid_url, "Name": "vidEdit", "Reserved": ""},
            {"URL": pcd_url, "Name": "pcdEdit", "Reserved": ""},
        ],
    )
    sat = _tasks("20240612", SAT_TASKS, task_type="satEdit", url=sat_url, now=now, step_s=420)
    vid = _tasks("20240611", VID_TASKS, task_type="vidEdit", url=vid_url, now=now, step_s=1500)
    pcd = _tasks("20240610", OFFLINE_TASKS, task_type="pcdEdit", url=pcd_url, now=now, step_s=900)
    server.publish("taskRegister", sat + vid + pcd)
    # pcdEdit stops beating: mark every service offline as of the future, then the two live
    # services beat again (vidEdit's clock runs 7 minutes behind).
    off_loop(
        run_on_store,
        server.settings,
        lambda store: store.services.sweep_health(now=time.time() + 10_000, timeout_s=90),
    )
    server.publish(
        "heartBeat",
        [
            {"url": sat_url, "time": now, "reserved": ""},
            {"url": vid_url, "time": now - 420, "reserved": ""},
            {"url": "http://10.20.0.7:9000", "time": now, "reserved": ""},
        ],
    )
    admin = server.login("admin")
    for _ in range(3):
        assert admin.post("/api/v1/tasks/claim-next").status_code == 200
    smq = server.login("smq")
    for _ in range(2):
        assert smq.post("/api/v1/tasks/claim-next", json={"type": "vidEdit"}).status_code == 200
    manager = server.login("wangfang")
    ids = [task_id_of(body) for body in sat]
    answer = manager.post(
        "/api/v1/tasks/assign",
        json={"ids": ids[5:9], "user": "lixin", "checker": "chenjing", "group": "team-a"},
    )
    assert answer.status_code == 200, answer.text
    answer = manager.post("/api/v1/tasks/assign", json={"ids": ids[12:15], "group": "team-b"})
    assert answer.status_code == 200, answer.text
    # The services move some work on: editing, finished.
    admin_tasks = admin.get("/api/v1/tasks", params={"user": "admin"}).json()["items"]
    updates = [
        {**body, "Status": "编辑中"}
        for body in sat + vid
        if task_id_of(body) in {admin_tasks[0]["ID"], ids[6]}
    ]
    updates += [{**body, "Status": "已完成"} for body in sat[18:21]]
    # One claimed task is finished: the overview's cycle time and people have a claim → finish.
    done = admin_tasks[1]["ID"]
    updates += [{**body, "Status": "已完成"} for body in sat + vid if task_id_of(body) == done]
    updates += [{**body, "Status": "编辑中"} for body in vid[8:10]]
    server.publish("updateStatus", updates)
    server.publish(
        "taskRegister",
        [
            b'{"ProjectID": "coast-2024q2", "TaskID": ',
            {"ProjectID": "city-roads", "InstanceID": "inst-01", "TaskID": "20240612_x"},
            # Cut off mid-way and too long to keep whole: the page marks it truncated.
            b'{"ProjectID": "traffic-cam-07", "EditInfo": "' + b"frame;" * 40_000,
        ],
    )
    server.publish("heartBeat", [{"time": now, "reserved": ""}])
    return {"task_ids": ids, "admin_task": admin_tasks[0]["ID"]}
