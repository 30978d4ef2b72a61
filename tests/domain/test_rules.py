"""Merging service messages, claimability and assignment (SPEC §3, §6)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from taskdash.domain import rules
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import CLAIMED, UNCLAIMED, StatusSource, Task, derive_task_id
from taskdash.domain.ports import AssignChange

SERVICE_URL = "http://127.0.0.1:18081"
OTHER_URL = "http://127.0.0.1:18082"
T0 = 1_600_000_000 * 10**9  # a publish timestamp, ns
NOW = 1_700_000_000.0


def message(*, status: str = "", **overrides: Any) -> TaskMessage:
    """A parsed task message for one fixed task identity."""
    values: dict[str, Any] = {
        "id": derive_task_id("p1", "i1", "0001", "satEdit"),
        "project_id": "p1",
        "instance_id": "i1",
        "task_id": "0001",
        "status": status,
        "task_type": "satEdit",
        "url": f"{SERVICE_URL}/edit/0001",
        "edit_info": "",
        "create_time": 1596174701,
    }
    values.update(overrides)
    return TaskMessage(**values)


Step = tuple[rules.MessageKind, TaskMessage, int]  # (kind, message, ts_ns)


def apply_all(steps: list[Step], start: Task | None = None) -> Task | None:
    """Fold `steps` in the given order, as the store does one message at a time."""
    task = start
    for kind, msg, ts_ns in steps:
        merged = rules.merge_task_message(task, msg, kind=kind, ts_ns=ts_ns, now=NOW)
        if merged is not None:
            task = merged
    return task


def state(task: Task | None) -> dict[str, Any]:
    """Everything about a task but its bookkeeping counters."""
    assert task is not None
    values = dataclasses.asdict(task)
    del values["rev"], values["updated_at"]
    return values


def stored_task(**overrides: Any) -> Task:
    """A task as the store might hold it: created by a register at T0."""
    task = rules.merge_task_message(None, message(), kind="register", ts_ns=T0, now=NOW)
    assert task is not None
    return dataclasses.replace(task, **overrides)


# --- creation -----------------------------------------------------------------------------


def test_register_creates_unclaimed_task_when_status_is_empty() -> None:
    task = rules.merge_task_message(None, message(), kind="register", ts_ns=T0, now=NOW)
    assert task is not None
    assert task.status == UNCLAIMED
    assert task.status_src == StatusSource.REGISTER
    assert (task.status_ts, task.fields_ts) == (T0, T0)
    assert (task.user, task.checker, task.group) == ("", "", "")
    assert task.origin == SERVICE_URL
    assert task.rev == 1
    assert task.updated_at == NOW


def test_register_creates_with_its_status() -> None:
    task = rules.merge_task_message(
        None, message(status="编辑中"), kind="register", ts_ns=T0, now=NOW
    )
    assert task is not None and task.status == "编辑中"


def test_update_for_unknown_task_creates_it() -> None:
    task = rules.merge_task_message(
        None, message(status="编辑中"), kind="update", ts_ns=T0, now=NOW
    )
    assert task is not None
    assert (task.status, task.status_src) == ("编辑中", StatusSource.UPDATE)


def test_update_with_empty_status_means_unclaimed() -> None:
    task = rules.merge_task_message(None, message(), kind="update", ts_ns=T0, now=NOW)
    assert task is not None and task.status == UNCLAIMED


def test_created_task_copies_service_fields() -> None:
    msg = message(edit_info="box", create_time=42, url=f"{OTHER_URL}/x")
    task = rules.merge_task_message(None, msg, kind="register", ts_ns=T0, now=NOW)
    assert task is not None
    assert (task.id, task.project_id, task.instance_id, task.task_id, task.type) == (
        msg.id,
        "p1",
        "i1",
        "0001",
        "satEdit",
    )
    assert (task.url, task.edit_info, task.time, task.origin) == (
        f"{OTHER_URL}/x",
        "box",
        42,
        OTHER_URL,
    )


# --- register vs update -------------------------------------------------------------------


@pytest.mark.parametrize("register_first", [True, False])
@pytest.mark.parametrize("register_ts", [T0 - 5, T0 + 5])
def test_update_status_wins_over_register_whichever_arrives_first(
    register_first: bool, register_ts: int
) -> None:
    register: Step = ("register", message(status="待审核"), register_ts)
    update: Step = ("update", message(status="编辑中"), T0)
    steps = [register, update] if register_first else [update, register]
    task = apply_all(steps)
    assert task is not None
    assert (task.status, task.status_ts, task.status_src) == ("编辑中", T0, StatusSource.UPDATE)


def test_register_status_yields_even_to_an_older_update() -> None:
    task = apply_all([("register", message(), T0), ("update", message(status="编辑中"), T0 - 10)])
    assert task is not None and task.status == "编辑中"


def test_register_for_existing_task_never_changes_its_status() -> None:
    task = apply_all([("register", message(), T0), ("register", message(status="编辑中"), T0 + 10)])
    assert task is not None and task.status == UNCLAIMED


def test_register_never_changes_a_status_set_by_an_update() -> None:
    task = apply_all(
        [("update", message(status="编辑中"), T0), ("register", message(status="x"), T0 - 10)]
    )
    assert task is not None and task.status == "编辑中"


def test_of_two_registers_the_earlier_published_sets_the_status() -> None:
    # In publish order, the first register created the task and the second left its status.
    first: Step = ("register", message(status="a"), T0)
    second: Step = ("register", message(status="b"), T0 + 10)
    for steps in ([first, second], [second, first]):
        task = apply_all(steps)
        assert task is not None
        assert (task.status, task.status_ts) == ("a", T0)


def test_register_for_existing_task_refreshes_fields_newest_wins() -> None:
    older: Step = ("register", message(edit_info="old", url=f"{SERVICE_URL}/old"), T0)
    newer: Step = (
        "register",
        message(edit_info="new", url=f"{OTHER_URL}/new", create_time=7),
        T0 + 10,
    )
    for steps in ([older, newer], [newer, older]):
        task = apply_all(steps)
        assert task is not None
        assert (task.edit_info, task.url, task.time, task.origin, task.fields_ts) == (
            "new",
            f"{OTHER_URL}/new",
            7,
            OTHER_URL,
            T0 + 10,
        )


def test_older_update_still_wins_status_but_not_fields() -> None:
    task = apply_all(
        [
            ("register", message(edit_info="new"), T0 + 10),
            ("update", message(status="编辑中", edit_info="old"), T0),
        ]
    )
    assert task is not None
    assert (task.status, task.edit_info) == ("编辑中", "new")


# --- update vs update ---------------------------------------------------------------------


@pytest.mark.parametrize("in_publish_order", [True, False])
def test_of_two_updates_the_later_published_wins(in_publish_order: bool) -> None:
    earlier: Step = ("update", message(status="编辑中", edit_info="e1"), T0)
    later: Step = ("update", message(status="已完成", edit_info="e2"), T0 + 1)
    task = apply_all([earlier, later] if in_publish_order else [later, earlier])
    assert task is not None
    assert (task.status, task.status_ts, task.edit_info) == ("已完成", T0 + 1, "e2")


def test_any_order_of_messages_gives_the_publish_order_result() -> None:
    steps: list[Step] = [
        ("register", message(edit_info="r1"), T0),
        ("update", message(status="编辑中", edit_info="u1"), T0 + 1),
        ("register", message(status="x", edit_info="r2"), T0 + 2),
        ("update", message(status="已完成", edit_info="u2"), T0 + 3),
        ("register", message(edit_info="r3", create_time=9), T0 + 4),
    ]
    expected = state(apply_all(steps))
    assert (expected["status"], expected["edit_info"], expected["time"]) == ("已完成", "r3", 9)
    for order in itertools.permutations(steps):
        assert state(apply_all(list(order))) == expected


# --- TaskDash's own changes ---------------------------------------------------------------


def test_update_published_before_a_claim_cannot_undo_it() -> None:
    claim_at = T0 / 1e9 + 100
    task = rules.claimed(stored_task(), user="smq", now=claim_at)
    stale = rules.merge_task_message(
        task,
        message(status=UNCLAIMED),
        kind="update",
        ts_ns=rules.status_ts_of(claim_at) - 1,
        now=NOW,
    )
    after = task if stale is None else stale
    assert (after.status, after.user) == (CLAIMED, "smq")


def test_update_published_after_a_claim_applies_and_keeps_the_user() -> None:
    claim_at = T0 / 1e9 + 100
    task = rules.claimed(stored_task(), user="smq", now=claim_at)
    after = rules.merge_task_message(
        task,
        message(status="已完成"),
        kind="update",
        ts_ns=rules.status_ts_of(claim_at) + 1,
        now=NOW,
    )
    assert after is not None
    assert (after.status, after.user) == ("已完成", "smq")


def test_register_never_undoes_a_claim() -> None:
    task = rules.claimed(stored_task(), user="smq", now=T0 / 1e9 + 100)
    after = rules.merge_task_message(
        task, message(status=UNCLAIMED), kind="register", ts_ns=T0 - 1, now=NOW
    )
    assert after is None or (after.status, after.user) == (CLAIMED, "smq")


def test_claimed_sets_user_status_and_time() -> None:
    task = rules.claimed(stored_task(), user="smq", now=1234.5)
    assert (task.user, task.status, task.claimed_at) == ("smq", CLAIMED, 1234.5)
    assert (task.status_ts, task.status_src) == (1234_500_000_000, StatusSource.UPDATE)


def test_released_returns_to_unclaimed() -> None:
    claimed = rules.claimed(stored_task(), user="smq", now=100.0)
    task = rules.released(claimed, now=200.0)
    assert (task.user, task.status, task.claimed_at) == ("", UNCLAIMED, None)
    assert task.status_ts == rules.status_ts_of(200.0)


# --- fields owned by TaskDash -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["register", "update"])
def test_task_messages_never_touch_user_checker_group(kind: rules.MessageKind) -> None:
    task = stored_task(user="smq", checker="chk", group="team-a", status=CLAIMED)
    task = dataclasses.replace(task, status_src=StatusSource.UPDATE)
    after = rules.merge_task_message(
        task,
        message(status="已完成", edit_info="changed"),
        kind=kind,
        ts_ns=T0 + 10,
        now=NOW,
    )
    assert after is not None
    assert (after.user, after.checker, after.group) == ("smq", "chk", "team-a")


def test_metadata_reserved_is_kept_by_task_messages() -> None:
    task = stored_task(reserved="from metadata")
    after = rules.merge_task_message(
        task, message(edit_info="x"), kind="register", ts_ns=T0 + 10, now=NOW
    )
    assert after is not None and after.reserved == "from metadata"


# --- messages that leave out optional keys ------------------------------------------------

BARE = {"url": None, "edit_info": None, "create_time": None}


@pytest.mark.parametrize("kind", ["register", "update", "metadata"])
def test_a_message_without_optional_keys_blanks_nothing(kind: rules.MessageKind) -> None:
    task = stored_task(edit_info="box", reserved="r")
    after = apply_all([(kind, message(status="编辑中", **BARE), T0 + 10)], task)
    assert after is not None
    assert (after.url, after.edit_info, after.time, after.reserved, after.origin) == (
        task.url,
        "box",
        task.time,
        "r",
        SERVICE_URL,
    )


def test_an_explicit_empty_value_does_blank() -> None:
    after = apply_all(
        [("update", message(url="", edit_info="", create_time=0), T0 + 10)],
        stored_task(edit_info="box"),
    )
    assert after is not None
    assert (after.url, after.edit_info, after.time, after.origin) == ("", "", 0, "")
    assert (after.url_ts, after.edit_info_ts, after.time_ts) == (T0 + 10,) * 3


def test_a_task_created_without_optional_keys_takes_them_from_an_older_message() -> None:
    # In publish order the older message created the task with its URL; the newer kept it.
    older: Step = ("register", message(edit_info="box"), T0)
    newer: Step = ("update", message(status="编辑中", **BARE), T0 + 10)
    expected = state(apply_all([older, newer]))
    assert (expected["url"], expected["edit_info"]) == (f"{SERVICE_URL}/edit/0001", "box")
    assert state(apply_all([newer, older])) == expected


def test_each_optional_field_follows_the_newest_message_carrying_it() -> None:
    steps: list[Step] = [
        ("register", message(url=f"{SERVICE_URL}/1", edit_info="e1", create_time=1), T0),
        ("update", message(status="a", url=f"{OTHER_URL}/2", edit_info=None), T0 + 1),
        ("update", message(status="b", url=None, edit_info="e3", create_time=None), T0 + 2),
        ("register", message(url=None, edit_info=None, create_time=4), T0 + 3),
        ("metadata", message(status="c", **BARE, reserved="r5"), T0 + 4),
        ("update", message(status="d", **BARE), T0 + 5),
    ]
    expected = state(apply_all(steps))
    assert (expected["url"], expected["edit_info"], expected["time"]) == (
        f"{OTHER_URL}/2",
        "e3",
        4,
    )
    assert (expected["reserved"], expected["origin"], expected["status"]) == ("r5", OTHER_URL, "d")
    for order in itertools.permutations(steps):
        assert state(apply_all(list(order))) == expected


# --- idempotence --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["register", "update"])
def test_duplicate_message_changes_nothing(kind: rules.MessageKind) -> None:
    msg = message(status="编辑中", edit_info="e")
    task = rules.merge_task_message(None, msg, kind=kind, ts_ns=T0, now=NOW)
    assert task is not None
    again = rules.merge_task_message(task, msg, kind=kind, ts_ns=T0, now=NOW + 5)
    assert again is None


@pytest.mark.parametrize(("kind", "status"), [("register", "x"), ("update", "y")])
def test_stale_messages_change_nothing(kind: rules.MessageKind, status: str) -> None:
    task = apply_all([("register", message(), T0), ("update", message(status="编辑中"), T0 + 10)])
    assert task is not None
    stale = rules.merge_task_message(task, message(status=status), kind=kind, ts_ns=T0 + 5, now=NOW)
    assert stale is None


def test_a_change_bumps_rev_and_updated_at() -> None:
    task = stored_task()
    after = rules.merge_task_message(
        task, message(status="编辑中"), kind="update", ts_ns=T0 + 1, now=NOW + 1
    )
    assert after is not None
    assert (after.rev, after.updated_at) == (task.rev + 1, NOW + 1)
    assert (task.status, task.rev) == (UNCLAIMED, 1), "the input task is not modified"


# --- claim_refusal ------------------------------------------------------------------------


def test_unclaimed_task_without_group_is_claimable() -> None:
    assert rules.claim_refusal(stored_task(), user_group="", offline_origins=()) is None
    assert rules.claim_refusal(stored_task(), user_group="team-a", offline_origins=()) is None


def test_task_with_a_user_is_not_claimable() -> None:
    assert rules.claim_refusal(stored_task(user="smq"), user_group="", offline_origins=())


@pytest.mark.parametrize("status", [CLAIMED, "编辑中", "已完成", ""])
def test_task_not_unclaimed_is_not_claimable(status: str) -> None:
    assert rules.claim_refusal(stored_task(status=status), user_group="", offline_origins=())


def test_group_task_is_claimable_only_by_its_group() -> None:
    task = stored_task(group="team-a")
    assert rules.claim_refusal(task, user_group="team-a", offline_origins=()) is None
    assert rules.claim_refusal(task, user_group="team-b", offline_origins=())
    assert rules.claim_refusal(task, user_group="", offline_origins=())


def test_task_of_offline_service_is_not_claimable() -> None:
    task = stored_task()
    assert rules.claim_refusal(task, user_group="", offline_origins=[SERVICE_URL])
    assert rules.claim_refusal(task, user_group="", offline_origins=[OTHER_URL]) is None


def test_task_without_origin_is_claimable_whatever_is_offline() -> None:
    task = stored_task(url="", origin="")
    assert rules.claim_refusal(task, user_group="", offline_origins=[SERVICE_URL, ""]) is None


# --- assigned -----------------------------------------------------------------------------


def test_assigning_a_user_to_an_unclaimed_task_claims_it() -> None:
    after = rules.assigned(stored_task(), AssignChange(user="smq"), now=500.0)
    assert after is not None
    assert (after.user, after.status, after.claimed_at) == ("smq", CLAIMED, 500.0)
    assert after.status_ts == rules.status_ts_of(500.0)


def test_taking_the_user_off_a_claimed_task_releases_it() -> None:
    task = rules.claimed(stored_task(), user="smq", now=100.0)
    after = rules.assigned(task, AssignChange(user=""), now=500.0)
    assert after is not None
    assert (after.user, after.status, after.claimed_at) == ("", UNCLAIMED, None)


def test_reassigning_a_claimed_task_keeps_its_status() -> None:
    task = rules.claimed(stored_task(), user="smq", now=100.0)
    after = rules.assigned(task, AssignChange(user="other"), now=500.0)
    assert after is not None
    assert (after.user, after.status, after.claimed_at) == ("other", CLAIMED, 100.0)


def test_assigning_a_user_to_a_task_in_progress_keeps_its_status() -> None:
    after = rules.assigned(stored_task(status="编辑中"), AssignChange(user="smq"), now=500.0)
    assert after is not None
    assert (after.user, after.status) == ("smq", "编辑中")


def test_assigning_checker_and_group_only_sets_them() -> None:
    task = stored_task()
    after = rules.assigned(task, AssignChange(checker="chk", group="team-a"), now=500.0)
    assert after is not None
    assert (after.user, after.checker, after.group, after.status) == (
        "",
        "chk",
        "team-a",
        UNCLAIMED,
    )


def test_empty_strings_clear_checker_and_group() -> None:
    task = stored_task(checker="chk", group="team-a")
    after = rules.assigned(task, AssignChange(checker="", group=""), now=500.0)
    assert after is not None and (after.checker, after.group) == ("", "")


def test_assignment_that_changes_nothing_is_none() -> None:
    task = stored_task(user="smq", checker="chk", group="g", status=CLAIMED)
    assert rules.assigned(task, AssignChange(), now=500.0) is None
    assert rules.assigned(task, AssignChange(user="smq", checker="chk", group="g"), now=1.0) is None


# --- plan_assignment ----------------------------------------------------------------------


def test_round_robin_cycles_sorted_members() -> None:
    plan = rules.plan_assignment(
        ["t1", "t2", "t3", "t4", "t5"],
        members=["carol", "alice", "bob"],
        strategy="round_robin",
        load={"alice": 99},
    )
    assert plan == {"t1": "alice", "t2": "bob", "t3": "carol", "t4": "alice", "t5": "bob"}


def test_least_loaded_fills_the_least_loaded_first_ties_by_name() -> None:
    plan = rules.plan_assignment(
        ["t1", "t2", "t3", "t4", "t5", "t6"],
        members=["carol", "bob", "alice"],
        strategy="least_loaded",
        load={"alice": 3, "bob": 1},
    )
    # carol 0, bob 1, alice 3: carol, then bob/carol tie at 1 → bob, carol, then 2s …
    assert plan == {
        "t1": "carol",
        "t2": "bob",
        "t3": "carol",
        "t4": "bob",
        "t5": "carol",
        "t6": "alice",
    }


def test_least_loaded_ignores_load_of_non_members() -> None:
    plan = rules.plan_assignment(
        ["t1", "t2"], members=["bob", "alice"], strategy="least_loaded", load={"zed": 0}
    )
    assert plan == {"t1": "alice", "t2": "bob"}


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_no_members_plans_nothing(strategy: rules.AssignStrategy) -> None:
    assert rules.plan_assignment(["t1"], members=[], strategy=strategy, load={}) == {}


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_every_task_is_planned_once(strategy: rules.AssignStrategy) -> None:
    ids = [f"t{i}" for i in range(10)]
    plan = rules.plan_assignment(ids, members=["a", "b", "c"], strategy=strategy, load={})
    assert sorted(plan) == sorted(ids)
    assert sorted(list(plan.values()).count(m) for m in "abc") == [3, 3, 4]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (AssignChange(user="ann"), "user=ann"),
        (AssignChange(user="", checker="chk", group="g"), "user=, checker=chk, group=g"),
        (AssignChange(user="ann", over_limit=True), "user=ann, over the claim limit"),
        (AssignChange(), ""),
    ],
)
def test_an_assignment_s_history_detail_names_what_it_set(
    change: AssignChange, detail: str
) -> None:
    assert rules.assign_detail(change) == detail
