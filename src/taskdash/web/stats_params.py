"""The query parameters every /api/v1/stats endpoint shares: since, until, project, type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query


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
