"""The live stream's audience rule: proven states only, the lists' visibility exactly."""

from __future__ import annotations

import itertools

from taskdash.actions.tasks import can_see
from taskdash.domain.models import CLAIMED, UNCLAIMED, Role, Task, TaskEvent, User
from taskdash.web.live_audience import Seen, audience, may_see, state_before

AT = 1_700_000_000.5


def person(name: str, role: Role = Role.ANNOTATOR, group: str = "") -> User:
    return User(name=name, role=role, password_hash="-", group=group)


def task(*, user: str = "", status: str = UNCLAIMED, checker: str = "", group: str = "") -> Task:
    return Task(
        id="t1",
        project_id="p",
        instance_id="i",
        task_id="t",
        type="satEdit",
        user=user,
        status=status,
        checker=checker,
        group=group,
        updated_at=AT,
    )


def event(action: str, **fields: str) -> TaskEvent:
    return TaskEvent(task_id="t1", at=AT, actor="x", action=action, **fields)


def test_a_fully_known_state_is_seen_exactly_as_the_lists_show_it() -> None:
    people = [
        person(name, role, group)
        for name, role, group in itertools.product(
            ("a1", "b1"), (Role.ANNOTATOR, Role.CHECKER, Role.MANAGER), ("", "gA")
        )
    ]
    for user, status, checker, group in itertools.product(
        ("", "a1", "b1"), (UNCLAIMED, CLAIMED, "已完成"), ("", "a1", "b1"), ("", "gA", "gB")
    ):
        t = task(user=user, status=status, checker=checker, group=group)
        for who in people:
            assert may_see(who, Seen.of(t)) == can_see(who, t), (who, t)


def test_an_unknown_group_or_checker_never_shows_a_task() -> None:
    unknown = Seen(user="", status=UNCLAIMED, checker=None, group=None)
    assert not may_see(person("b1", Role.CHECKER, "gB"), unknown)
    assert may_see(person("m", Role.MANAGER), unknown)


def test_a_claim_proves_the_group_it_kept_only_when_the_read_is_its_own_result() -> None:
    claim = event("claim", from_status=UNCLAIMED, to_status=CLAIMED, to_user="a1")
    after = task(user="a1", status=CLAIMED, group="gA")
    assert state_before(claim, after) == Seen("", UNCLAIMED, "", "gA")
    later = task(user="a1", status=CLAIMED, group="gB")
    later.updated_at = AT + 1  # changed again since (say, moved to gB): proves nothing
    assert state_before(claim, later) == Seen("", UNCLAIMED, None, None)


def test_an_assign_that_set_a_group_or_checker_leaves_them_unknown_before() -> None:
    moved = event("assign", from_status=UNCLAIMED, to_status=UNCLAIMED, detail="group=gA")
    assert state_before(moved, task(group="gA")) == Seen("", UNCLAIMED, None, None)
    given = event(
        "assign", from_status=UNCLAIMED, to_status=CLAIMED, to_user="a1", detail="user=a1"
    )
    assert state_before(given, task(user="a1", status=CLAIMED)) == Seen("", UNCLAIMED, "", "")
    assert state_before(event("create", to_status=UNCLAIMED), task()) is None


def test_the_removal_goes_to_who_could_see_it_before_and_not_now() -> None:
    claim = event("claim", from_status=UNCLAIMED, to_status=CLAIMED, to_user="a1")
    told = audience([claim], current=task(user="a1", status=CLAIMED, group="gA"), recorded=None)
    assert told.hears(person("a1", group="gA")) == "task"
    assert told.hears(person("a2", group="gA")) == "remove"
    assert told.hears(person("b1", group="gB")) is None
    assert told.hears(person("m", Role.MANAGER)) == "task"
    moved = event("assign", from_status=UNCLAIMED, to_status=UNCLAIMED, detail="group=gA")
    recorded = Seen.of(task())
    told = audience([moved], current=task(group="gA"), recorded=recorded)
    assert told.hears(person("b1", group="gB")) == "remove"
    assert audience([moved], current=task(group="gA"), recorded=None).hears(person("b1")) is None


def test_a_service_message_proves_the_users_it_left_only_when_the_read_is_its_result() -> None:
    # History lines of service messages carry no users: they come from the read, or not at all.
    update = event("update", from_status=CLAIMED, to_status="编辑中")
    after = task(user="a1", status="编辑中", group="gA")
    assert state_before(update, after) == Seen("a1", CLAIMED, "", "gA")
    reopened = event("update", from_status=CLAIMED, to_status=UNCLAIMED)
    held = task(user="a1", status=UNCLAIMED, group="gA")
    assert not may_see(person("a2", group="gA"), state_before(reopened, held) or Seen.of(held))
    held.updated_at = AT + 1
    assert state_before(reopened, held) is None
    assert state_before(event("renamed", to_status=UNCLAIMED), task()) is None
