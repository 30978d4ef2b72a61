"""The period every stats endpoint takes (`since`, `until`, Unix seconds), checked one way."""

from __future__ import annotations

import math
from dataclasses import dataclass

from taskdash.domain.errors import BadRequest

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S


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
