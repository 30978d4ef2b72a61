"""Who hears of a task change on the live stream: the lists' visibility, before and after it.

A subscriber gets the full event only if they may see the task as it is now (read from the
store after the event, so at least as late as the change): exactly what `GET /tasks/{id}` would
show them, history included. A subscriber who cannot see it now but could see it before gets a
bare removal (the id only). "Before" is only what is proven to be a state the task really had:

- the event's own from_user / from_status, with checker and group known only when the task read
  is the very state this event left (every change stamps `updated_at` with the event's `at`, and
  user and status match) and the event is one that never changes checker or group;
- the state this feed last read for the task (a bounded record), which the task really had then.

An unknown field never makes a task visible, so a removal never reaches anyone who could not see
the task at a moment it really had; a stale row that cannot be proven to have been visible is
left to the next refresh instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskdash.actions.tasks import can_see
from taskdash.domain.models import UNCLAIMED, Role, Task, TaskEvent, User

# Actions that never change a task's checker or group (an assign may; see `_keeps_access`).
_ACCESS_KEEPING_ACTIONS = frozenset(
    {"claim", "release", "expire", "register", "update", "metadata"}
)


@dataclass(frozen=True, slots=True)
class Seen:
    """A task's visibility-relevant fields at one moment; None where not known."""

    user: str
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
        not seen.user
        and seen.status == UNCLAIMED
        and seen.group is not None
        and seen.group in ("", user.group)
    )


def _keeps_access(event: TaskEvent) -> bool:
    if event.action in _ACCESS_KEEPING_ACTIONS:
        return True
    # An assign's detail names what it set ("user=a, checker=b, group=c"); one that set only a
    # user kept checker and group. Anything else, or an unknown action, proves nothing.
    return event.action == "assign" and all(
        part.startswith("user=") for part in event.detail.split(", ")
    )


def state_before(event: TaskEvent, current: Task | None) -> Seen | None:
    """The task's state just before `event`, as far as proven; None if it did not exist."""
    if event.action == "create":
        return None
    exact = (
        current is not None
        and current.updated_at == event.at
        and (current.user, current.status) == (event.to_user, event.to_status)
    )
    if current is not None and exact and _keeps_access(event):
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
