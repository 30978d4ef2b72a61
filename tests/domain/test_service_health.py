"""A service's online/offline spans over a period, from its transitions."""

from __future__ import annotations

from taskdash.domain.models import Service
from taskdash.domain.ports import HealthTransition, ServiceHealth
from taskdash.domain.service_health import HealthSpan, health_spans


def health(*transitions: tuple[float, bool], service: Service | None = None) -> ServiceHealth:
    return ServiceHealth(
        service=service or Service(url="http://h/x"),
        transitions=tuple(HealthTransition(at, online) for at, online in transitions),
        metadata_errors=0,
        last_metadata_error="",
        last_metadata_error_at=None,
    )


def spans(found: ServiceHealth, since: float, until: float) -> list[tuple[float, float, bool]]:
    return [(s.start, s.end, s.online) for s in health_spans(found, since=since, until=until)]


def test_spans_cover_the_period_from_the_state_before_it() -> None:
    found = health((10, True), (20, False), (30, True))
    assert spans(found, 15, 40) == [(15, 20, True), (20, 30, False), (30, 40, True)]


def test_a_service_registered_in_the_period_starts_there() -> None:
    assert spans(health((10, True), (12, False)), 0, 20) == [(10, 12, True), (12, 20, False)]


def test_a_transition_at_the_start_or_end_makes_no_empty_span() -> None:
    found = health((10, True), (15, False), (20, True))
    assert spans(found, 15, 20) == [(15, 20, False)]
    assert spans(health((10, True)), 12, 12) == []


def test_repeated_states_make_one_span() -> None:
    assert spans(health((10, False), (12, False), (14, True)), 10, 16) == [
        (10, 14, False),
        (14, 16, True),
    ]


def test_a_service_without_kept_transitions_is_in_its_state_since_its_last_change() -> None:
    copied = Service(url="http://h/x", online=False, health_changed_at=5.0)
    assert health_spans(health(service=copied), since=0, until=9) == [HealthSpan(5, 9, False)]
