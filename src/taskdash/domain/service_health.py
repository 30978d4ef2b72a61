"""A service's online/offline spans over a period, from its stored transitions (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from taskdash.domain.ports import HealthTransition, ServiceHealth


@dataclass(frozen=True, slots=True)
class HealthSpan:
    """A stretch of time a service was online (or offline) throughout."""

    start: float
    end: float
    online: bool


def health_spans(health: ServiceHealth, *, since: float, until: float) -> list[HealthSpan]:
    """Spans covering [since, until]: from the state of the last transition by `since` on.

    Time before a service's first known transition (its registration, when that is inside the
    period) is left out. A service with none kept (copied in from another store) has been in
    its present state since its last change.
    """
    known = list(health.transitions)
    if not known:
        service = health.service
        known = [HealthTransition(service.health_changed_at, service.online)]
    spans: list[HealthSpan] = []
    ends = [t.at for t in known[1:]] + [until]
    for transition, next_at in zip(known, ends, strict=True):
        start, end = max(transition.at, since), min(next_at, until)
        if end <= start:
            continue
        if spans and spans[-1].online == transition.online:
            spans[-1] = HealthSpan(spans[-1].start, end, transition.online)
        else:
            spans.append(HealthSpan(start, end, transition.online))
    return spans


def heartbeat_at(health: ServiceHealth) -> float | None:
    """When the service's last accepted heartbeat was published (None: never)."""
    ts_ns = health.service.last_beat_ts
    return ts_ns / 1e9 if ts_ns else None
