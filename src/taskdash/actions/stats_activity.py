"""Activity statistics for people: throughput, people, cycle times, each sliced by role.

Managers and admins see everything; annotators and checkers see their own claims, finishes,
holdings and cycle times, and the queue (created, unclaimed) of the tasks they could claim:
those of no group or of their own group. Rollups are kept per UTC hour, so every window is
widened to whole hours (throughput's day buckets to whole UTC days) and answered as widened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from taskdash.domain.activity import (
    DAY_S,
    HOUR_S,
    ActivityScope,
    CycleSummary,
    PersonCounts,
)
from taskdash.domain.errors import BadRequest
from taskdash.domain.models import Role, User
from taskdash.domain.ports import ActivityStats, UserRepo

MAX_BUCKETS = 800
MAX_TIME_S = 1e11  # Unix seconds: about the year 5138, and far inside what a store can hold
Bucket = Literal["hour", "day"]
BUCKET_S: dict[str, int] = {"hour": HOUR_S, "day": DAY_S}


class ActivityStore(Protocol):
    """What the activity statistics use of the store (a whole Store is one)."""

    @property
    def activity(self) -> ActivityStats: ...

    @property
    def accounts(self) -> UserRepo: ...


@dataclass(frozen=True, slots=True)
class StatsFilter:
    """The common parameters: a time range (Unix seconds) and exact project/type filters."""

    since: float
    until: float
    project: str | None = None
    type: str | None = None


def window(
    *, since: float | None, until: float | None, default_span_s: int, size_s: int, now: float
) -> tuple[float, float]:
    """The range asked for; by default until now, since `default_span_s` before the end of
    the bucket (of `size_s`) holding until, so that the default is that many whole buckets."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not (math.isfinite(value) and abs(value) <= MAX_TIME_S):
            raise BadRequest(f"{name} must be a number of Unix seconds within ±{MAX_TIME_S:g}")
    end = now if until is None else until
    start = math.ceil(end / size_s) * size_s - default_span_s if since is None else since
    if start > end:
        raise BadRequest("since must not be after until")
    return start, end


def aligned(stats: StatsFilter, *, size_s: int) -> tuple[int, int]:
    """The range widened to whole buckets of `size_s`; refuses more than MAX_BUCKETS."""
    start = math.floor(stats.since / size_s) * size_s
    end = max(math.ceil(stats.until / size_s) * size_s, start + size_s)
    if (end - start) // size_s > MAX_BUCKETS:
        raise BadRequest(f"range asks for more than {MAX_BUCKETS} buckets of {size_s} s")
    return start, end


def _scope(
    viewer: User, stats: StatsFilter, *, since: int, until: int, finished: Sequence[str]
) -> ActivityScope:
    own = viewer.role < Role.MANAGER
    return ActivityScope(
        since=since,
        until=until,
        finished=tuple(finished),
        project=stats.project,
        type=stats.type,
        user=viewer.name if own else None,
        groups=tuple(dict.fromkeys(("", viewer.group))) if own else None,
    )


def _hours_scope(viewer: User, stats: StatsFilter, *, finished: Sequence[str]) -> ActivityScope:
    """The scope of whole hours holding the range; refuses more than MAX_BUCKETS days."""
    since, until = aligned(stats, size_s=HOUR_S)
    if (until - since) // DAY_S > MAX_BUCKETS:
        raise BadRequest(f"range asks for more than {MAX_BUCKETS} days")
    return _scope(viewer, stats, since=since, until=until, finished=finished)


@dataclass(frozen=True, slots=True)
class ThroughputBucket:
    start: float
    created: int
    claimed: int
    finished: int
    unclaimed: int


@dataclass(frozen=True, slots=True)
class Throughput:
    bucket: Bucket
    since: float
    until: float
    buckets: list[ThroughputBucket]


async def throughput(
    *,
    store: ActivityStore,
    viewer: User,
    stats: StatsFilter,
    bucket: Bucket,
    finished: Sequence[str],
) -> Throughput:
    """Created, claimed, finished per bucket, and the unclaimed queue at each bucket's end."""
    size = BUCKET_S[bucket]
    since, until = aligned(stats, size_s=size)
    scope = _scope(viewer, stats, since=since, until=until, finished=finished)
    activity = await store.activity.hourly_activity(scope=scope)
    starts = list(range(since, until, size))
    sums = {start: [0, 0, 0, 0] for start in starts}  # created, claimed, finished, queue delta
    for hour, counts in activity.hours.items():
        row = sums[since + (hour - since) // size * size]
        row[0] += counts.created
        row[1] += counts.claimed
        row[2] += counts.finished
        row[3] += counts.queue_delta
    # The queue at each bucket's end, walking back from the range's end through the deltas.
    queue = activity.queue_at_until
    buckets: list[ThroughputBucket] = []
    for start in reversed(starts):
        created, claimed, finished_n, delta = sums[start]
        buckets.append(ThroughputBucket(start, created, claimed, finished_n, queue))
        queue -= delta
    buckets.reverse()
    return Throughput(bucket=bucket, since=since, until=until, buckets=buckets)


@dataclass(frozen=True, slots=True)
class PersonRow:
    user: str
    groups: list[str]
    counts: PersonCounts
    median_claim_to_finish_s: float | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    group: str
    members: int
    counts: PersonCounts
    median_claim_to_finish_s: float | None


@dataclass(frozen=True, slots=True)
class People:
    since: float
    until: float
    people: list[PersonRow]
    groups: list[GroupRow]


async def people(
    *, store: ActivityStore, viewer: User, stats: StatsFilter, finished: Sequence[str]
) -> People:
    """Per person and per group: holding now, finished, median claim→finish, releases, expiries."""
    scope = _hours_scope(viewer, stats, finished=finished)
    since, until = scope.since, scope.until
    counts = await store.activity.people_activity(scope=scope)
    own = viewer.role < Role.MANAGER
    accounts = {} if own else {a.name: a for a in await store.accounts.list_users()}
    members = {name: account.group for name, account in accounts.items() if account.group}
    summaries = await store.activity.cycle_summaries(
        scope=scope, keys=("user",) if own else ("user", "group"), members=members
    )
    cycles = summaries["user"]
    if own:
        row = _person(viewer.name, viewer, counts, cycles)
        return People(since=since, until=until, people=[row], groups=[])
    listed = {
        name
        for name, account in accounts.items()
        if not account.disabled and account.role <= Role.CHECKER
    }
    names = sorted(set(counts) | set(cycles) | listed)
    rows = [_person(name, accounts.get(name), counts, cycles) for name in names]
    group_cycles = summaries["group"]
    groups: dict[str, GroupRow] = {}
    for group in sorted(set(members.values())):
        summary = group_cycles.get(group)
        active = sum(1 for a in accounts.values() if a.group == group and not a.disabled)
        groups[group] = GroupRow(
            group=group,
            members=active,
            counts=PersonCounts(finished=summary.finished if summary else 0),
            median_claim_to_finish_s=summary.median_s if summary else None,
        )
    for row in rows:
        for group in row.groups:
            _add(groups[group].counts, row.counts)
    return People(since=since, until=until, people=rows, groups=list(groups.values()))


def _person(
    name: str,
    account: User | None,
    counts: dict[str, PersonCounts],
    cycles: dict[str, CycleSummary],
) -> PersonRow:
    person = counts.get(name, PersonCounts())
    summary = cycles.get(name)
    person.finished = summary.finished if summary else 0
    median = summary.median_s if summary else None
    return PersonRow(name, _groups_of(account), person, median)


def _groups_of(account: User | None) -> list[str]:
    return [account.group] if account is not None and account.group else []


def _add(total: PersonCounts, person: PersonCounts) -> None:
    """Add a member's holdings, releases and expiries (finishes are counted per group)."""
    total.holding += person.holding
    total.releases += person.releases
    total.expiries += person.expiries


@dataclass(frozen=True, slots=True)
class TypeCycleTimes:
    type: str
    count: int
    median_s: float | None
    p90_s: float | None
    histogram: list[tuple[float | None, int]]


@dataclass(frozen=True, slots=True)
class CycleTimes:
    since: float
    until: float
    types: list[TypeCycleTimes]


async def cycle_time(
    *, store: ActivityStore, viewer: User, stats: StatsFilter, finished: Sequence[str]
) -> CycleTimes:
    """Per task type: how long from claim to finish (count, median, p90, fixed histogram)."""
    scope = _hours_scope(viewer, stats, finished=finished)
    since, until = scope.since, scope.until
    summaries = (await store.activity.cycle_summaries(scope=scope, keys=("type",)))["type"]
    types = [
        TypeCycleTimes(
            type=name,
            count=summary.count,
            median_s=summary.median_s,
            p90_s=summary.p90_s,
            histogram=summary.histogram,
        )
        for name, summary in sorted(summaries.items())
        if summary.count
    ]
    return CycleTimes(since=since, until=until, types=types)
