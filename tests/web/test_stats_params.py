"""The stats routes' shared time range: defaults, and a clear 400 for a bad range."""

from __future__ import annotations

import pytest

from taskdash.domain.errors import BadRequest
from taskdash.web.stats_params import MAX_BUCKETS, TimeRange, time_range

NOW = 1_700_000_000.0
HOUR_S = 3600.0


def test_defaults_end_now_and_span_back() -> None:
    assert time_range(since=None, until=None, default_span_s=48 * HOUR_S, now=NOW) == TimeRange(
        since=NOW - 48 * HOUR_S, until=NOW
    )
    given = time_range(since=NOW - 10, until=NOW - 5, default_span_s=HOUR_S, now=NOW)
    assert given == TimeRange(since=NOW - 10, until=NOW - 5)


@pytest.mark.parametrize(
    ("since", "until", "says"),
    [
        (float("nan"), None, "since must be a finite"),
        (None, float("inf"), "until must be a finite"),
        (NOW, NOW - 1, "is after until"),
        (NOW - (MAX_BUCKETS + 1) * HOUR_S, NOW, f"more than {MAX_BUCKETS} buckets"),
    ],
)
def test_a_bad_range_is_a_bad_request(since: float | None, until: float | None, says: str) -> None:
    with pytest.raises(BadRequest, match=says):
        time_range(since=since, until=until, default_span_s=HOUR_S, now=NOW, bucket_s=HOUR_S)
