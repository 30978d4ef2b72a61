"""Pure rules: merging service messages into tasks, claimability, assignment strategies.

Merging is commutative and idempotent so that any arrival order of the same messages, with
duplicates, ends in the state of applying them in publish order (SPEC §3):
- service-owned fields follow the newest message that carries them: a message that leaves out
  an optional key (URL, EditInfo, CreateTime, Reserved) never blanks it, so each optional field
  keeps the publish time of the message that set it (ties broken by content, never by arrival);
- a status set by a taskRegister yields to any update; of several registers the oldest decides
  (in publish order it is the one that created the task);
- an update's status applies only if newer than the one that set the stored status.
TaskDash's own changes (claim, release, expiry, assign) are updates published when they happen.
A metadata record (SPEC §4) is an update as of its fetch time, except that its 待领取 never
undoes a claim: the service reports what it knew before TaskDash gave the task a user.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Literal

from taskdash.domain.errors import TaskDashError, TaskNotClaimable, TaskNotFound
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import (
    CLAIMED,
    UNCLAIMED,
    StatusSource,
    Task,
    TaskEvent,
    TaskQuery,
    url_origin,
)
from taskdash.domain.ports import AssignChange, ClaimRules

MessageKind = Literal["register", "update", "metadata"]
AssignStrategy = Literal["round_robin", "least_loaded"]


# The fields a task service owns (set by its messages), in Task's names: those every message
# carries follow the newest message; each optional one follows the newest message carrying it,
# whose publish time is kept beside it.
REQUIRED_FIELDS = ("project_id", "instance_id", "task_id", "type")
OPTIONAL_FIELDS = (
    ("url", "url_ts"),
    ("edit_info", "edit_info_ts"),
    ("time", "time_ts"),
    ("reserved", "reserved_ts"),
)


def _required_values(msg: TaskMessage) -> tuple[str, ...]:
    return (msg.project_id, msg.instance_id, msg.task_id, msg.task_type)


def carried_values(msg: TaskMessage) -> dict[str, str | int]:
    """The optional fields `msg` carries (a key it leaves out leaves the stored value)."""
    values: dict[str, str | int | None] = {
        "url": msg.url,
        "edit_info": msg.edit_info,
        "time": msg.create_time,
        "reserved": msg.reserved,
    }
    return {name: value for name, value in values.items() if value is not None}


def _newer(ts_ns: int, value: object, *, stored_ts: int, stored: object) -> bool:
    # Equal timestamps are decided by content, so that arrival order never matters.
    return (ts_ns, str(value)) > (stored_ts, str(stored))


def new_task_from_message(msg: TaskMessage, *, kind: MessageKind, ts_ns: int, now: float) -> Task:
    """The task a first message creates."""
    task = Task(
        id=msg.id,
        project_id=msg.project_id,
        instance_id=msg.instance_id,
        task_id=msg.task_id,
        type=msg.task_type,
        status=msg.status or UNCLAIMED,
        updated_at=now,
        status_ts=ts_ns,
        status_src=StatusSource.REGISTER if kind == "register" else StatusSource.UPDATE,
        fields_ts=ts_ns,
        rev=1,
    )
    carried = carried_values(msg)
    for name, ts_name in OPTIONAL_FIELDS:
        if name in carried:
            setattr(task, name, carried[name])
            setattr(task, ts_name, ts_ns)
    task.origin = url_origin(task.url)
    return task


def _merge_fields(task: Task, msg: TaskMessage, *, ts_ns: int) -> bool:
    """Apply the service-owned fields `msg` carries where it is the newest; True if any moved."""
    changed = False
    required = _required_values(msg)
    stored = tuple(getattr(task, name) for name in REQUIRED_FIELDS)
    if _newer(ts_ns, required, stored_ts=task.fields_ts, stored=stored):
        for name, value in zip(REQUIRED_FIELDS, required, strict=True):
            setattr(task, name, value)
        task.fields_ts = ts_ns
        changed = True
    carried = carried_values(msg)
    for name, ts_name in OPTIONAL_FIELDS:
        if name in carried and _newer(
            ts_ns, carried[name], stored_ts=getattr(task, ts_name), stored=getattr(task, name)
        ):
            setattr(task, name, carried[name])
            setattr(task, ts_name, ts_ns)
            changed = True
            if name == "url":
                task.origin = url_origin(task.url)
    return changed


def merge_task_message(
    current: Task | None, msg: TaskMessage, *, kind: MessageKind, ts_ns: int, now: float
) -> Task | None:
    """The task after applying `msg` published at `ts_ns`; None when nothing changes."""
    if current is None:
        return new_task_from_message(msg, kind=kind, ts_ns=ts_ns, now=now)
    task = dataclasses.replace(current)
    changed = _merge_fields(task, msg, ts_ns=ts_ns)
    status = msg.status or UNCLAIMED
    if kind == "metadata" and status == UNCLAIMED and current.user:
        # The service has not seen TaskDash's claim yet; its 待领取 is older news.
        pass
    elif kind in ("update", "metadata"):
        if current.status_src == StatusSource.REGISTER or (ts_ns, status) > (
            current.status_ts,
            current.status,
        ):
            changed |= _set_status(task, status, ts_ns, StatusSource.UPDATE)
    elif current.status_src == StatusSource.REGISTER and (ts_ns, status) < (
        current.status_ts,
        current.status,
    ):
        changed |= _set_status(task, status, ts_ns, StatusSource.REGISTER)
    if not changed:
        return None
    task.updated_at = now
    task.rev = current.rev + 1
    return task


def _set_status(task: Task, status: str, ts_ns: int, src: StatusSource) -> bool:
    if (task.status, task.status_ts, task.status_src) == (status, ts_ns, src):
        return False
    task.status, task.status_ts, task.status_src = status, ts_ns, src
    return True


def is_finished(status: str, finished_statuses: Iterable[str]) -> bool:
    return status in finished_statuses


def claim_refusal(task: Task, *, user_group: str, offline_origins: Iterable[str]) -> str | None:
    """Why `task` cannot be claimed by a user of `user_group`, or None when it can."""
    if task.user:
        return "task already has a user"
    if task.status != UNCLAIMED:
        return f"task status is {task.status}"
    if task.group and task.group != user_group:
        return "task belongs to another group"
    if task.origin and task.origin in set(offline_origins):
        return "task's service is offline"
    return None


def claim_error(task: Task, rules: ClaimRules) -> TaskDashError | None:
    """The error refusing `rules.user` this task, or None; one they may not see is 'not found'.

    A task of another group, or one no longer unclaimed and not theirs, was never in the
    claimant's lists, so it answers exactly like a missing task (SPEC §7.2). A task taken by
    someone else answers 1007 without naming the holder: it was claimable a moment ago.
    """
    refusal = claim_refusal(
        task, user_group=rules.user_group, offline_origins=rules.offline_origins
    )
    if refusal is None:
        return None
    other_group = bool(task.group) and task.group != rules.user_group
    gone_quietly = not task.user and task.status != UNCLAIMED
    if not rules.sees_all and (other_group or gone_quietly):
        return TaskNotFound(task.id)
    return TaskNotClaimable(refusal)


def assign_detail(change: AssignChange) -> str:
    """The history detail of an assignment: the fields it set, and an override of the limit."""
    parts = [
        f"{name}={value}"
        for name, value in (
            ("user", change.user),
            ("checker", change.checker),
            ("group", change.group),
        )
        if value is not None
    ]
    if change.over_limit:
        parts.append("over the claim limit")
    return ", ".join(parts)


def change_event(
    before: Task, after: Task, *, actor: str, action: str, now: float, detail: str = ""
) -> TaskEvent:
    """The history line of a change made by a person or a sweep."""
    return TaskEvent(
        task_id=before.id,
        at=now,
        actor=actor,
        action=action,
        from_status=before.status,
        to_status=after.status,
        from_user=before.user,
        to_user=after.user,
        detail=detail,
    )


def message_event(
    before: Task | None, after: Task, *, kind: MessageKind, now: float
) -> TaskEvent | None:
    """The history line of a service message: its creation or a status change, else None."""
    if before is not None and before.status == after.status:
        return None
    return TaskEvent(
        task_id=after.id,
        at=now,
        actor="service",
        action="create" if before is None else kind,
        from_status=before.status if before else "",
        to_status=after.status,
    )


def claim_next_query(
    rules: ClaimRules, *, task_type: str | None, project_id: str | None
) -> TaskQuery:
    """The oldest task `rules.user` could claim: unclaimed, no group or theirs, service online."""
    return TaskQuery(
        status=UNCLAIMED,
        user="",
        type=task_type,
        project_id=project_id,
        groups=("", rules.user_group) if rules.user_group else ("",),
        exclude_origins=rules.offline_origins,
        limit=1,
    )


def plan_assignment(
    task_ids: Sequence[str],
    *,
    members: Sequence[str],
    strategy: AssignStrategy,
    load: dict[str, int],
) -> dict[str, str]:
    """Spread `task_ids` over `members`: in turn, or each to whoever holds least so far."""
    if not members:
        return {}
    ordered = sorted(members)
    plan: dict[str, str] = {}
    if strategy == "round_robin":
        for index, task_id in enumerate(task_ids):
            plan[task_id] = ordered[index % len(ordered)]
        return plan
    counts = {member: load.get(member, 0) for member in ordered}
    for task_id in task_ids:
        member = min(ordered, key=lambda name: (counts[name], name))
        plan[task_id] = member
        counts[member] += 1
    return plan


def status_ts_of(now: float) -> int:
    """TaskDash's own changes count as updates published at `now` (seconds → ns)."""
    return int(now * 1_000_000_000)


def claimed(task: Task, *, user: str, now: float) -> Task:
    """The task once `user` has claimed it."""
    return dataclasses.replace(
        task,
        user=user,
        status=CLAIMED,
        claimed_at=now,
        status_ts=status_ts_of(now),
        status_src=StatusSource.UPDATE,
    )


def released(task: Task, *, now: float) -> Task:
    """The task returned to 待领取 with no user."""
    return dataclasses.replace(
        task,
        user="",
        status=UNCLAIMED,
        claimed_at=None,
        status_ts=status_ts_of(now),
        status_src=StatusSource.UPDATE,
    )


def assigned(task: Task, change: AssignChange, *, now: float) -> Task | None:
    """The task after a manager's assignment; None when it changes nothing.

    Giving an unclaimed task a user claims it for them; taking the user off a claimed task
    returns it to 待领取.
    """
    after = dataclasses.replace(task)
    if change.checker is not None:
        after.checker = change.checker
    if change.group is not None:
        after.group = change.group
    if change.user is not None and change.user != task.user:
        if change.user and task.status == UNCLAIMED:
            after = claimed(after, user=change.user, now=now)
        elif not change.user and task.status == CLAIMED:
            after = released(after, now=now)
        else:
            after.user = change.user
    if (after.user, after.checker, after.group, after.status) == (
        task.user,
        task.checker,
        task.group,
        task.status,
    ):
        return None
    return after
