"""Rules of holding tasks: who may release what, the claim limit, what a service's tasks count.

The stores read and write; these decide (SPEC §6). A store calls them on the task or count it
has just read, inside the write they guard.
"""

from __future__ import annotations

from collections.abc import Mapping

from taskdash.domain.errors import ClaimLimitReached, Forbidden, TaskDashError, TaskNotClaimable
from taskdash.domain.models import CLAIMED, UNCLAIMED, Task
from taskdash.domain.ports import ClaimRules

# The history detail of a claim given back because a concurrent claim took its user over the
# limit (MongoDB, which counts after writing: store/mongo/claim_limit.py).
OVER_LIMIT_GIVEN_BACK = "over the claim limit (a concurrent claim)"


def release_error(task: Task, *, holder: str | None) -> TaskDashError | None:
    """Why `task` cannot be released, or None.

    With a `holder` (an annotator or checker releasing their own task): only that holder,
    and only while the task is 已领取. Without (a manager): any task that has a user.
    """
    if holder is not None:
        if task.user != holder:
            return Forbidden("only the holder or a manager can release a task")
        if task.status != CLAIMED:
            return TaskNotClaimable(f"task status is {task.status}, not {CLAIMED}")
    elif not task.user:
        return TaskNotClaimable("task has no user")
    return None


def claim_limit_reached(rules: ClaimRules) -> ClaimLimitReached:
    """The refusal of a claim that would take `rules.user` beyond the claim limit."""
    return ClaimLimitReached(f"{rules.user} holds {rules.max_claims} unfinished tasks")


def claim_limit_error(rules: ClaimRules, *, unfinished: int) -> ClaimLimitReached | None:
    """The refusal of a claim by a user already holding `unfinished` tasks, or None."""
    if rules.max_claims and unfinished >= rules.max_claims:
        return claim_limit_reached(rules)
    return None


def over_claim_limit(rules: ClaimRules, *, unfinished: int) -> bool:
    """Whether a user holding `unfinished` tasks after a claim holds more than the limit."""
    return bool(rules.max_claims) and unfinished > rules.max_claims


def over_limit_after_assign(
    given: Mapping[str, int], *, held: Mapping[str, int], limit: int
) -> set[str]:
    """Users an assignment takes beyond the claim limit: what they hold plus what it gives them.

    Every task of the request counts, even one the user already holds: the check errs on the
    side of asking (the assign then needs `override_limit`).
    """
    if not limit:
        return set()
    return {user for user, n in given.items() if held.get(user, 0) + n > limit}


def assign_limit_reached(user: str, *, would_hold: int, limit: int) -> ClaimLimitReached:
    """The refusal of an assignment that takes `user` beyond the claim limit."""
    return ClaimLimitReached(
        f"{user} would hold {would_hold} unfinished tasks, more than the limit of {limit}; "
        "set override_limit to assign anyway"
    )


def service_task_counts(by_status: Mapping[str, int]) -> dict[str, int]:
    """A service's task counts shown in lists, from its count of tasks per status."""
    return {
        "total": sum(by_status.values()),
        "unclaimed": by_status.get(UNCLAIMED, 0),
        "claimed": by_status.get(CLAIMED, 0),
    }
