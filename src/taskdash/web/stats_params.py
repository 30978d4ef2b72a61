"""The query parameters every /api/v1/stats endpoint shares: since, until, project, type; and
the period they name (`since`, `until`, Unix seconds), checked one way. (The three stats
branches each added this module; merged here as the union of their parts.)"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from taskdash.domain.errors import BadRequest

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """The shared parameters as given (None: not given)."""

    since: float | None
    until: float | None
    project: str | None
    type: str | None


async def stats_query(
    since: Annotated[
        float | None, Query(description="start, Unix seconds (default: per endpoint)")
    ] = None,
    until: Annotated[float | None, Query(description="end, Unix seconds (default: now)")] = None,
    project: Annotated[str | None, Query(description="only this project (exact)")] = None,
    type: Annotated[str | None, Query(description="only this task type (exact)")] = None,
) -> StatsQuery:
    return StatsQuery(since=since, until=until, project=project, type=type)


StatsQueryDep = Annotated[StatsQuery, Depends(stats_query)]


@dataclass(frozen=True, slots=True)
class StatsPeriod:
    since: float
    until: float


def stats_period(
    *, since: float | None, until: float | None, default_s: float, now: float
) -> StatsPeriod:
    """[since, until]: `until` defaults to now, `since` to `default_s` before `until`."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not math.isfinite(value):
            raise BadRequest(f"{name} must be a finite number of Unix seconds")
    end = now if until is None else until
    start = end - default_s if since is None else since
    if start > end:
        raise BadRequest(f"since ({start:g}) is after until ({end:g})")
    return StatsPeriod(since=start, until=end)


MAX_BUCKETS = 800
FILTER_MAX_LENGTH = 512


@dataclass(frozen=True, slots=True)
class StatsFilter:
    """Exact-match filters; None filters nothing (an empty parameter is the same as none)."""

    project: str | None = None
    type: str | None = None


async def stats_filter(
    project: Annotated[
        str | None, Query(max_length=FILTER_MAX_LENGTH, description="only this ProjectID")
    ] = None,
    type: Annotated[
        str | None, Query(max_length=FILTER_MAX_LENGTH, description="only this TaskType")
    ] = None,
) -> StatsFilter:
    return StatsFilter(project=project or None, type=type or None)


StatsFilterDep = Annotated[StatsFilter, Depends(stats_filter)]

SinceParam = Annotated[
    float | None, Query(description="start of the range, Unix seconds (default: per route)")
]
UntilParam = Annotated[float | None, Query(description="end of the range, Unix seconds (now)")]


@dataclass(frozen=True, slots=True)
class TimeRange:
    since: float
    until: float


def time_range(
    *,
    since: float | None,
    until: float | None,
    default_span_s: float,
    now: float,
    bucket_s: float | None = None,
) -> TimeRange:
    """The range asked for, with defaults (until now, since `default_span_s` before it);
    BadRequest for a non-finite bound, `since` after `until`, or more than MAX_BUCKETS buckets."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not math.isfinite(value):
            raise BadRequest(f"{name} must be a finite number of Unix seconds")
    end = now if until is None else until
    start = end - default_span_s if since is None else since
    if start > end:
        raise BadRequest(f"since ({start:g}) is after until ({end:g})")
    if bucket_s is not None and (end - start) / bucket_s > MAX_BUCKETS:
        raise BadRequest(f"the range asks for more than {MAX_BUCKETS} buckets; narrow it")
    return TimeRange(since=start, until=end)
