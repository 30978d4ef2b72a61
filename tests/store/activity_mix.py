"""A mix of work on a store at chosen times, and a recount of the activity from raw history.

The recount reads only what any store keeps anyway: the history lines and the tasks. The queue's
length at each hour's start is taken from the tasks themselves as the mix crosses the hour.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from taskdash.domain.activity import HOUR_S, hour_of
from taskdash.domain.errors import TaskDashError
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import CLAIMED, UNCLAIMED, TaskEvent, TaskQuery
from taskdash.domain.ports import AssignChange, ClaimRules, Store, TaskMessageEnvelope

T0 = 1_700_002_800  # a UTC hour
FINISHED = ("已完成",)
MESSAGE_ACTIONS = ("register", "update", "metadata")
USERS = {"alice": "g1", "bob": "g1", "carol": "g2"}
PROJECTS = ("p1", "p2")
TYPES = ("satEdit", "vidEdit")
SERVICE_STATUSES = ("编辑中", "待审核", "已完成", "已完成", UNCLAIMED, CLAIMED)
OPS = ("create", "claim", "claim_next", "release", "assign", "expire", "update", "metadata")


def rules_for(user: str) -> ClaimRules:
    return ClaimRules(
        user=user,
        user_group=USERS.get(user, ""),
        max_claims=0,
        finished_statuses=FINISHED,
        offline_origins=(),
    )


@dataclass
class Mix:
    """Runs operations at increasing times and keeps the queue's true length per hour."""

    store: Store
    now: float = float(T0)
    created: int = 0
    ts_ns: int = T0 * 10**9
    # hour start -> (project, type, group) -> unclaimed tasks at that moment
    queue_at: dict[int, Counter[tuple[str, str, str]]] = field(default_factory=dict)

    async def advance(self, seconds: float) -> None:
        """Move the clock; the queue is recounted at each hour boundary crossed."""
        target = self.now + seconds
        boundary = hour_of(self.now) + HOUR_S
        if boundary <= target:
            queue = await self.queue()
            while boundary <= target:
                self.queue_at[boundary] = queue
                boundary += HOUR_S
        self.now = target

    async def queue(self) -> Counter[tuple[str, str, str]]:
        tasks = await self.store.tasks.find(TaskQuery(limit=100_000))
        return Counter(
            (t.project_id, t.type, t.group) for t in tasks if t.status == UNCLAIMED and not t.user
        )

    async def task_ids(self) -> list[str]:
        return sorted(t.id for t in await self.store.tasks.find(TaskQuery(limit=100_000)))

    async def message(self, task_id: str | None, *, kind: str, status: str) -> None:
        if task_id is None:
            self.created += 1
            number = self.created
            project, task_type = PROJECTS[number % 2], TYPES[(number // 2) % 2]
            task_id = f"{project}-{task_type}-{number:04d}"
        else:
            task = await self.store.tasks.get(task_id)
            assert task is not None
            project, task_type = task.project_id, task.type
        self.ts_ns += 1_000_000
        message = TaskMessage(
            id=task_id,
            project_id=project,
            instance_id="i",
            task_id=task_id,
            status=status,
            task_type=task_type,
            create_time=int(self.now),
        )
        envelope = TaskMessageEnvelope(kind=kind, message=message, ts_ns=self.ts_ns)  # type: ignore[arg-type]
        await self.store.tasks.apply_messages(envelopes=[envelope], now=self.now)

    async def step(self, rng: random.Random, op: str) -> None:
        """One operation of kind `op` on a task and user chosen by `rng`; refusals are fine."""
        ids = await self.task_ids()
        user = rng.choice(sorted(USERS))
        task_id = rng.choice(ids) if ids else None
        self.ts_ns = max(self.ts_ns, int(self.now * 10**9))
        with contextlib.suppress(TaskDashError):
            if op == "create" or task_id is None:
                await self.message(None, kind="register", status="")
            elif op == "claim":
                await self.store.tasks.claim(task_id=task_id, rules=rules_for(user), now=self.now)
            elif op == "claim_next":
                await self.store.tasks.claim_next(
                    rules=rules_for(user), task_type=None, project_id=None, now=self.now
                )
            elif op == "release":
                await self.store.tasks.release(
                    task_id=task_id, holder=None, actor="manager", action="release", now=self.now
                )
            elif op == "assign":
                change = rng.choice(
                    (
                        AssignChange(user=user),
                        AssignChange(user=""),
                        AssignChange(group=rng.choice(("", "g1", "g2"))),
                    )
                )
                await self.store.tasks.assign(
                    task_id=task_id, change=change, actor="manager", now=self.now
                )
            elif op == "expire":
                await self.store.tasks.expire_claims(
                    claimed_before=self.now - 1800, now=self.now, limit=100
                )
            else:
                kind = "update" if op == "update" else "metadata"
                self.ts_ns = int(self.now * 10**9) + 500_000_000
                await self.message(task_id, kind=kind, status=rng.choice(SERVICE_STATUSES))


async def run_mix(store: Store, rng: random.Random, ops: list[tuple[str, float]]) -> Mix:
    """Run (operation, seconds to wait before it) pairs, then cross into the next hour."""
    mix = Mix(store)
    for op, wait_s in ops:
        await mix.advance(wait_s)
        await mix.step(rng, op)
    await mix.advance(HOUR_S)
    return mix


def random_ops(rng: random.Random, count: int) -> list[tuple[str, float]]:
    weights = (5, 3, 2, 1, 2, 1, 4, 1)
    return [(rng.choices(OPS, weights)[0], rng.uniform(0, 1500)) for _ in range(count)]


@dataclass
class Recount:
    """The activity counted from the raw history lines and tasks."""

    created: Counter[int] = field(default_factory=Counter)  # hour -> n
    claimed: Counter[tuple[int, str]] = field(default_factory=Counter)  # (hour, user) -> n
    finished: Counter[tuple[int, str]] = field(default_factory=Counter)
    releases: Counter[str] = field(default_factory=Counter)
    expiries: Counter[str] = field(default_factory=Counter)
    holding: Counter[str] = field(default_factory=Counter)
    # (finish time, type, user, seconds from claim)
    cycles: list[tuple[float, str, str, float]] = field(default_factory=list)


async def recount(store: Store) -> Recount:
    lines: list[TaskEvent] = await store.tasks.events_after(seq=0, limit=100_000)
    tasks = {t.id: t for t in await store.tasks.find(TaskQuery(limit=100_000))}
    counted = Recount()
    holder: dict[str, str] = defaultdict(str)
    claimed_at: dict[str, float | None] = defaultdict(lambda: None)
    for line in sorted(lines, key=lambda line: line.seq):
        hour = hour_of(line.at)
        by_service = line.action in MESSAGE_ACTIONS or line.action == "create"
        if line.action == "create":
            counted.created[hour] += 1
        if line.to_user and line.to_user != line.from_user:
            counted.claimed[hour, line.to_user] += 1
        if line.action == "release" and line.from_user:
            counted.releases[line.from_user] += 1
        if line.action == "expire" and line.from_user:
            counted.expiries[line.from_user] += 1
        if not by_service:
            holder[line.task_id] = line.to_user
            if line.from_status == UNCLAIMED and line.to_status == CLAIMED:
                claimed_at[line.task_id] = line.at
            elif line.from_status == CLAIMED and line.to_status == UNCLAIMED:
                claimed_at[line.task_id] = None
        finishes = line.to_status in FINISHED and line.from_status not in FINISHED
        if line.action != "create" and finishes:
            user = holder[line.task_id]
            counted.finished[hour, user] += 1
            started = claimed_at[line.task_id]
            if by_service and user and started is not None:
                task_type = tasks[line.task_id].type
                counted.cycles.append((line.at, task_type, user, line.at - started))
    for task in tasks.values():
        if task.user and task.status not in FINISHED:
            counted.holding[task.user] += 1
    return counted
