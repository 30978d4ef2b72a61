"""The query parameters every /api/v1/stats endpoint shares: since, until, project, type; and
the period they name (`since`, `until`, Unix seconds), checked one way."""

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
