"""The live stream tells each user only what their lists show, and ends with their session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_stream import EventStream, StreamEvent
from tests.support import LiveServer, live_server_on, task_body, task_id_of

CLOSE_WITHIN_S = 10.0


def add_people(server: LiveServer) -> None:
    server.add_user("root", "admin")
    server.add_user("mgr", "manager")
    server.add_user("chk", "checker")
    server.add_user("a1", group="gA")
    server.add_user("a2", group="gA")
    server.add_user("b1", group="gB")


def new_task(server: LiveServer, name: str) -> str:
    server.publish("taskRegister", [task_body(name)])
    return task_id_of(task_body(name))


def set_status(server: LiveServer, name: str, status: str) -> None:
    server.publish("updateStatus", [task_body(name, status=status)])


def assign(manager: httpx.Client, task_id: str, **change: str) -> None:
    answer = manager.post("/api/v1/tasks/assign", json={"ids": [task_id], **change})
    assert answer.status_code == 200 and answer.json()["assigned"] == 1, answer.text


def claim(client: httpx.Client, task_id: str) -> None:
    answer = client.post(f"/api/v1/tasks/{task_id}/claim")
    assert answer.status_code == 200, answer.text


def about(task_id: str, action: str | None = None) -> Callable[[StreamEvent], bool]:
    def match(event: StreamEvent) -> bool:
        return event.data.get("task_id") == task_id and (
            action is None or event.data.get("action") == action
        )

    return match


def task_events(seen: list[StreamEvent], task_id: str) -> list[StreamEvent]:
    return [e for e in seen if e.data.get("task_id") == task_id]


def settle(server: LiveServer, *streams: EventStream, name: str) -> None:
    """A new claimable task; once every stream has it, all earlier changes were fanned out."""
    control = new_task(server, name)
    for stream in streams:
        stream.until(about(control, "create"))


def test_group_b_hears_nothing_of_a_group_a_task_and_a_manager_hears_it_all(
    server: LiveServer,
) -> None:
    add_people(server)
    mgr = server.login("mgr")
    with EventStream(server.login("mgr")) as manager:
        secret = new_task(server, "groupA-secret")
        assign(mgr, secret, group="gA")
        manager.until(about(secret, "assign"))
        with EventStream(server.login("b1")) as b1:
            claim(server.login("a1"), secret)
            set_status(server, "groupA-secret", "编辑中")
            assign(mgr, secret, checker="chk")
            assign(mgr, secret, user="a2")
            settle(server, manager, b1, name="control-1")
            assert secret not in b1.text()
    heard = [(e.kind, e.data.get("action")) for e in task_events(manager.received, secret)]
    assert heard == [
        ("task", action) for action in ("create", "assign", "claim", "update", "assign", "assign")
    ]


def test_an_annotator_hears_their_own_and_claimable_tasks_only(server: LiveServer) -> None:
    add_people(server)
    mgr = server.login("mgr")
    with EventStream(server.login("mgr")) as manager:
        mine, same_group, other_group, taken = (
            new_task(server, name) for name in ("a1-mine", "gA-free", "gB-free", "b1-taken")
        )
        assign(mgr, same_group, group="gA")
        assign(mgr, other_group, group="gB")
        claim(server.login("b1"), taken)
        manager.until(about(taken, "claim"))
    with EventStream(server.login("a1")) as a1:
        assign(mgr, mine, user="a1")
        set_status(server, "a1-mine", "编辑中")
        assign(mgr, same_group, checker="chk")
        assign(mgr, other_group, checker="chk")
        set_status(server, "b1-taken", "编辑中")
        settle(server, a1, name="control-2")
    assert other_group not in a1.text() and taken not in a1.text()
    received = a1.received
    assert [(e.kind, e.data.get("action")) for e in task_events(received, mine)] == [
        ("task", "assign"),
        ("task", "update"),
    ]
    assert [(e.kind, e.data.get("action")) for e in task_events(received, same_group)] == [
        ("task", "assign")
    ]


def test_a_checker_hears_the_tasks_they_check(server: LiveServer) -> None:
    add_people(server)
    mgr = server.login("mgr")
    with EventStream(server.login("mgr")) as manager:
        checked, unchecked = new_task(server, "checked"), new_task(server, "unchecked")
        claim(server.login("a1"), checked)
        claim(server.login("a2"), unchecked)
        manager.until(about(unchecked, "claim"))
    with EventStream(server.login("chk")) as chk:
        assign(mgr, checked, checker="chk")
        set_status(server, "checked", "已完成")
        set_status(server, "unchecked", "已完成")
        settle(server, chk, name="control-3")
    assert unchecked not in chk.text()
    assert [(e.kind, e.data.get("action")) for e in task_events(chk.received, checked)] == [
        ("task", "assign"),
        ("task", "update"),
    ]


def test_a_task_claimed_by_someone_else_leaves_as_a_bare_removal(server: LiveServer) -> None:
    add_people(server)
    mgr = server.login("mgr")
    with EventStream(server.login("mgr")) as manager:
        taken, moved = new_task(server, "taken-by-a1"), new_task(server, "moved-to-gA")
        manager.until(about(moved, "create"))
    with EventStream(server.login("b1")) as b1:
        claim(server.login("a1"), taken)
        removal = b1.until(about(taken))[-1]
        assert removal == StreamEvent("remove", {"task_id": taken})
        assert f'data: {{"task_id": "{taken}"}}' in b1.lines
        # Visible when last seen, then moved to a group b1 is not in: a removal as well.
        assign(mgr, moved, checker="chk")
        assert b1.until(about(moved))[-1].kind == "task"
        assign(mgr, moved, group="gA")
        assert b1.until(about(moved))[-1] == StreamEvent("remove", {"task_id": moved})
        settle(server, b1, name="control-4")
        text = b1.text()
    assert text.count(taken) == 1 and '"to_user": "a1"' not in text


def test_a_task_given_to_someone_else_leaves_its_holders_list_as_a_bare_removal(
    server: LiveServer,
) -> None:
    add_people(server)
    mgr = server.login("mgr")
    with EventStream(server.login("mgr")) as manager:
        held = new_task(server, "held-by-a1")
        claim(server.login("a1"), held)
        manager.until(about(held, "claim"))
    with EventStream(server.login("a1")) as a1:
        assign(mgr, held, user="b1")
        assert a1.until(about(held))[-1] == StreamEvent("remove", {"task_id": held})
        settle(server, a1, name="control-5")
    assert '"to_user": "b1"' not in a1.text()


def test_the_nsq_feed_filters_the_same_way(nsq_server: LiveServer) -> None:
    server = nsq_server
    add_people(server)
    mgr = server.login("mgr")
    with EventStream(server.login("mgr")) as manager:
        secret, taken = new_task(server, "nsq-secret"), new_task(server, "nsq-taken")
        assign(mgr, secret, group="gA")
        manager.until(about(secret, "assign"))
        with EventStream(server.login("b1")) as b1:
            claim(server.login("a1"), secret)
            claim(server.login("a2"), taken)
            assert b1.until(about(taken))[-1] == StreamEvent("remove", {"task_id": taken})
            settle(server, manager, b1, name="nsq-control")
            assert secret not in b1.text()


# ---- streams end with their session --------------------------------------------------------


def end_by_logout(server: LiveServer, client: httpx.Client) -> None:
    assert client.post("/api/v1/logout").status_code == 204


def end_by_disable(server: LiveServer, client: httpx.Client) -> None:
    patch_user(server, {"disabled": True})


def end_by_password(server: LiveServer, client: httpx.Client) -> None:
    patch_user(server, {"password": "a different password"})


def end_by_role(server: LiveServer, client: httpx.Client) -> None:
    patch_user(server, {"role": "manager"})


def end_by_group(server: LiveServer, client: httpx.Client) -> None:
    patch_user(server, {"group": "gB"})


def patch_user(server: LiveServer, change: dict[str, object]) -> None:
    answer = server.login("root").patch("/api/v1/users/a1", json=change)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "end_session",
    [end_by_logout, end_by_disable, end_by_password, end_by_role, end_by_group],
    ids=["logout", "disable", "password", "role", "group"],
)
def test_a_stream_ends_within_10_s_of_its_session(
    server: LiveServer, end_session: Callable[[LiveServer, httpx.Client], None]
) -> None:
    add_people(server)
    client = server.login("a1")
    with EventStream(client) as stream:
        end_session(server, client)
        assert stream.ended.wait(CLOSE_WITHIN_S), "the stream outlived its session"
    assert client.get("/api/v1/me").status_code == 401


@pytest.fixture(params=["sqlite", "mongo"])
def short_session_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose sessions last 2 s."""
    with live_server_on(request.param, request, tmp_path, session_ttl_s=2.0) as live:
        yield live


def test_a_stream_ends_within_10_s_of_its_session_expiring(
    short_session_server: LiveServer,
) -> None:
    server = short_session_server
    server.add_user("a1")
    with EventStream(server.login("a1")) as stream:
        assert stream.ended.wait(2.0 + CLOSE_WITHIN_S), "the stream outlived its session"
