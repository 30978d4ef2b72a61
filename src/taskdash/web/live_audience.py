"""Who hears of a task change on the live stream: the lists' visibility, before and after it.

A subscriber gets the full event only if they may see the task as it is now (read from the
store after the event, so at least as late as the change): exactly what `GET /tasks/{id}` would
show them, history included. A subscriber who cannot see it now but could see it before gets a
bare removal (the id only). "Before" is only what is proven to be a state the task really had:

- a change by TaskDash (claim, release, expire, assign) records the user and status before it;
  its checker and group are known too when the task read is the very state the change left
  (every change stamps `updated_at` with its event's `at`; user and status match) and the
  change is one that cannot set them (claim, release, expire, an assign of a user only);
- a service message records the status only; when the read is the state it left, the user,
  checker and group before it are those of the read (a message never changes them);
- the state this feed last read for the task (a bounded record), which the task really had then.

An unknown field never makes a task visible, so a removal never reaches anyone who could not see
the task at a moment it really had; a stale row that cannot be proven to have been visible is
left to the next refresh instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskdash.actions.tasks import can_see
from taskdash.domain.models import UNCLAIMED, Role, Task, TaskEvent, User

# Service messages change a task's status only, and their history lines leave the users out.
_MESSAGE_ACTIONS = frozenset({"register", "update", "metadata"})
# TaskDash's own changes that record the user and never change checker or group.
_USER_ONLY_ACTIONS = frozenset({"claim", "release", "expire"})
# TaskDash's own changes: their history lines record the user and status before and after.
_CHANGE_ACTIONS = _USER_ONLY_ACTIONS | {"assign"}


@dataclass(frozen=True, slots=True)
class Seen:
    """A task's visibility-relevant fields at one moment; None where not known."""

    user: str | None
    status: str
    checker: str | None
    group: str | None

    @classmethod
    def of(cls, task: Task) -> Seen:
        return cls(user=task.user, status=task.status, checker=task.checker, group=task.group)


def may_see(user: User, seen: Seen) -> bool:
    """`can_see` on a partly known state: True only when the known fields prove it."""
    if user.role >= Role.MANAGER or seen.user == user.name:
        return True
    if user.role >= Role.CHECKER and seen.checker == user.name:
        return True
    return (
        seen.user == ""
        and seen.status == UNCLAIMED
        and seen.group is not None
        and seen.group in ("", user.group)
    )


def _user_only(event: TaskEvent) -> bool:
    if event.action in _USER_ONLY_ACTIONS:
        return True
    # An assign's detail names what it set ("user=a, checker=b, group=c"); one that set only a
    # user kept checker and group. Anything else, or an unknown action, proves nothing.
    return event.action == "assign" and all(
        part.startswith("user=") for part in event.detail.split(", ")
    )


def state_before(event: TaskEvent, current: Task | None) -> Seen | None:
    """The task's state just before `event`, as far as proven; None when nothing is."""
    if event.action == "create":
        return None
    # `current` is the state this event left when it carries the event's time stamp (every
    # change sets `updated_at` to its event's `at`) and the status (and user) it left.
    stamped = current is not None and current.updated_at == event.at
    if event.action in _MESSAGE_ACTIONS:
        if current is None or not stamped or current.status != event.to_status:
            return None
        return Seen(current.user, event.from_status, current.checker, current.group)
    if event.action not in _CHANGE_ACTIONS:
        return None
    if (
        current is not None
        and stamped
        and (current.user, current.status) == (event.to_user, event.to_status)
        and _user_only(event)
    ):
        return Seen(event.from_user, event.from_status, current.checker, current.group)
    return Seen(event.from_user, event.from_status, None, None)


@dataclass(frozen=True, slots=True)
class Audience:
    """What one task's changes in a batch may tell each subscriber."""

    current: Task | None
    before: tuple[Seen, ...]

    def hears(self, user: User) -> str | None:
        """'task' (the full events), 'remove' (the id only) or None (nothing at all)."""
        if user.role >= Role.MANAGER:
            return "task"
        if self.current is not None and can_see(user, self.current):
            return "task"
        if any(may_see(user, seen) for seen in self.before):
            return "remove"
        return None


def audience(events: list[TaskEvent], *, current: Task | None, recorded: Seen | None) -> Audience:
    """The audience of one task's events (in order), given its state now and as last recorded."""
    before = [seen for event in events if (seen := state_before(event, current)) is not None]
    if recorded is not None:
        before.append(recorded)
    return Audience(current=current, before=tuple(before))
