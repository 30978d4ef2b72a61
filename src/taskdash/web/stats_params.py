"""Query parameters shared by the /api/v1/stats routes: filters and the time range."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from taskdash.domain.activity import DAY_S, HOUR_S
from taskdash.domain.errors import BadRequest

__all__ = ["DAY_S", "HOUR_S", "SinceParam", "StatsFilterDep", "UntilParam", "time_range"]

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
