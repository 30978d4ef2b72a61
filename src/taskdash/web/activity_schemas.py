"""Response bodies of the activity statistics (/api/v1/stats: throughput, people, cycle-time)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from taskdash.actions import stats_activity
from taskdash.domain.activity import PersonCounts


class ThroughputBucketOut(BaseModel):
    start: float = Field(description="the bucket's start (Unix seconds, a UTC hour or day)")
    created: int
    claimed: int
    finished: int
    unclaimed: int = Field(description="the unclaimed queue's length at the bucket's end")


class ThroughputOut(BaseModel):
    bucket: Literal["hour", "day"]
    since: float = Field(description="the range counted: `since` rounded down to a bucket")
    until: float = Field(description="the range counted: `until` rounded up to a bucket")
    buckets: list[ThroughputBucketOut]

    @classmethod
    def of(cls, result: stats_activity.Throughput) -> ThroughputOut:
        return cls(
            bucket=result.bucket,
            since=result.since,
            until=result.until,
            buckets=[
                ThroughputBucketOut(
                    start=b.start,
                    created=b.created,
                    claimed=b.claimed,
                    finished=b.finished,
                    unclaimed=b.unclaimed,
                )
                for b in result.buckets
            ],
        )


class _Counts(BaseModel):
    holding: int = Field(description="unfinished tasks held now")
    finished: int = Field(description="tasks they held that entered a finished status")
    median_claim_to_finish_s: float | None
    releases: int
    expiries: int


def _counts(counts: PersonCounts, median: float | None) -> dict[str, int | float | None]:
    return {
        "holding": counts.holding,
        "finished": counts.finished,
        "median_claim_to_finish_s": median,
        "releases": counts.releases,
        "expiries": counts.expiries,
    }


class PersonOut(_Counts):
    user: str
    groups: list[str]


class GroupOut(_Counts):
    group: str
    members: int = Field(description="active accounts in the group")


class PeopleOut(BaseModel):
    since: float = Field(description="the range counted, widened to whole UTC hours")
    until: float
    people: list[PersonOut]
    groups: list[GroupOut]

    @classmethod
    def of(cls, result: stats_activity.People) -> PeopleOut:
        return cls(
            since=result.since,
            until=result.until,
            people=[
                PersonOut(
                    user=p.user, groups=p.groups, **_counts(p.counts, p.median_claim_to_finish_s)
                )
                for p in result.people
            ],
            groups=[
                GroupOut(
                    group=g.group,
                    members=g.members,
                    **_counts(g.counts, g.median_claim_to_finish_s),
                )
                for g in result.groups
            ],
        )


class HistogramBinOut(BaseModel):
    upper_s: float | None = Field(description="the bin's upper edge (inclusive); null: longer")
    count: int


class TypeCycleTimeOut(BaseModel):
    type: str
    count: int
    median_s: float | None
    p90_s: float | None
    histogram: list[HistogramBinOut]


class CycleTimeOut(BaseModel):
    since: float = Field(description="the range counted, widened to whole UTC hours")
    until: float
    types: list[TypeCycleTimeOut]

    @classmethod
    def of(cls, result: stats_activity.CycleTimes) -> CycleTimeOut:
        return cls(
            since=result.since,
            until=result.until,
            types=[
                TypeCycleTimeOut(
                    type=t.type,
                    count=t.count,
                    median_s=t.median_s,
                    p90_s=t.p90_s,
                    histogram=[HistogramBinOut(upper_s=u, count=c) for u, c in t.histogram],
                )
                for t in result.types
            ],
        )
