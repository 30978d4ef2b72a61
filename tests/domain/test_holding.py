"""Rules of holding tasks: release, the claim limit, per-service counts (SPEC §6)."""

from __future__ import annotations

import pytest

from taskdash.domain import holding
from taskdash.domain.errors import ClaimLimitReached, Forbidden, TaskDashError, TaskNotClaimable
from taskdash.domain.models import CLAIMED, UNCLAIMED, Task
from taskdash.domain.ports import ClaimRules


def task(*, user: str = "", status: str = UNCLAIMED) -> Task:
    return Task("id1", "p1", "i1", "t1", "satEdit", user=user, status=status)


def rules(*, max_claims: int) -> ClaimRules:
    return ClaimRules(
        user="ann",
        user_group="",
        max_claims=max_claims,
        finished_statuses=("已完成",),
        offline_origins=(),
    )


def test_the_holder_releases_their_claimed_task() -> None:
    assert holding.release_error(task(user="ann", status=CLAIMED), holder="ann") is None


@pytest.mark.parametrize(
    ("held", "refusal", "text"),
    [
        (task(user="bob", status=CLAIMED), Forbidden, "only the holder or a manager"),
        (task(), Forbidden, "only the holder or a manager"),
        (task(user="ann", status="编辑中"), TaskNotClaimable, "task status is 编辑中, not 已领取"),
    ],
)
def test_only_the_holder_and_only_while_claimed(
    held: Task, refusal: type[TaskDashError], text: str
) -> None:
    error = holding.release_error(held, holder="ann")
    assert isinstance(error, refusal) and text in error.detail


def test_a_manager_releases_any_task_with_a_user_in_any_status() -> None:
    assert holding.release_error(task(user="bob", status="编辑中"), holder=None) is None
    error = holding.release_error(task(), holder=None)
    assert isinstance(error, TaskNotClaimable) and error.detail == "task has no user"


@pytest.mark.parametrize(("unfinished", "refused"), [(0, False), (2, False), (3, True), (4, True)])
def test_a_claim_is_refused_at_the_limit(unfinished: int, refused: bool) -> None:
    error = holding.claim_limit_error(rules(max_claims=3), unfinished=unfinished)
    assert (error is not None) == refused
    if error is not None:
        assert isinstance(error, ClaimLimitReached)
        assert error.detail == "ann holds 3 unfinished tasks"


def test_no_limit_refuses_nothing() -> None:
    assert holding.claim_limit_error(rules(max_claims=0), unfinished=10_000) is None
    assert not holding.over_claim_limit(rules(max_claims=0), unfinished=10_000)


@pytest.mark.parametrize(("unfinished", "over"), [(2, False), (3, False), (4, True)])
def test_after_a_claim_only_more_than_the_limit_is_over_it(unfinished: int, over: bool) -> None:
    assert holding.over_claim_limit(rules(max_claims=3), unfinished=unfinished) == over


def test_an_assignment_is_over_the_limit_when_held_plus_given_exceeds_it() -> None:
    given = {"a": 2, "b": 1, "c": 5}
    held = {"a": 1, "b": 3}
    assert holding.over_limit_after_assign(given, held=held, limit=3) == {"b", "c"}
    assert holding.over_limit_after_assign(given, held=held, limit=0) == set()


def test_an_assignment_refusal_names_the_user_the_count_and_the_way_out() -> None:
    error = holding.assign_limit_reached("lixin", would_hold=4, limit=3)
    assert error.errid == 1008
    assert error.detail == (
        "lixin would hold 4 unfinished tasks, more than the limit of 3; "
        "set override_limit to assign anyway"
    )


def test_service_counts_bucket_statuses() -> None:
    by_status = {UNCLAIMED: 2, CLAIMED: 3, "编辑中": 4, "已完成": 1}
    assert holding.service_task_counts(by_status) == {"total": 10, "unclaimed": 2, "claimed": 3}
    assert holding.service_task_counts({}) == {"total": 0, "unclaimed": 0, "claimed": 0}
