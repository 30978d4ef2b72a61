"""Prometheus metrics of the process (the default registry), each registered once per process.

Every label is bounded: topics are configured, dead-letter reasons are kinds (never the text),
HTTP routes are templates (never the raw path). What is a state rather than an event (nsqd
connections, SSE clients) is read at scrape time from objects in memory, never from the store.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MESSAGES = Counter("taskdash_messages_total", "Messages handled", ["topic", "outcome"])
REQUEUES = Counter(
    "taskdash_requeues_total", "NSQ messages handed back to nsqd for a later attempt", ["topic"]
)
DEAD_LETTERS = Counter(
    "taskdash_dead_letters_total", "Messages kept as dead letters, by kind of reason", ["reason"]
)
BATCH_SIZE = Histogram(
    "taskdash_batch_size",
    "Messages per applied batch",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
STORE_WRITE_SECONDS = Histogram(
    "taskdash_store_write_seconds",
    "Duration of one store write (a SQLite group commit, a MongoDB write)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STORE_ERRORS = Counter("taskdash_store_errors_total", "Failed store operations", ["kind"])
SERVICES = Gauge(
    "taskdash_services", "Registered services by health, as of the last health sweep", ["state"]
)
CLAIMS = Counter(
    "taskdash_claims_total", "Claim changes: claim, release, expire, assign", ["action"]
)
LOGIN_FAILURES = Counter("taskdash_login_failures_total", "Logins refused for bad credentials")
LOGIN_THROTTLES = Counter(
    "taskdash_login_throttled_total", "Logins refused by throttling (HTTP 429)"
)
HTTP_SECONDS = Histogram(
    "taskdash_http_request_duration_seconds",
    "HTTP request duration by route template, method and status class",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

for _state in ("online", "offline"):
    SERVICES.labels(_state)
for _kind in ("read", "write"):
    STORE_ERRORS.labels(_kind)
for _action in ("claim", "release", "expire", "assign"):
    CLAIMS.labels(_action)


class _LiveState(Collector):
    """Gauges read at scrape time from this process's consumers and live feeds."""

    def __init__(self) -> None:
        self.connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self.streams: weakref.WeakSet[Any] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        nsqd = GaugeMetricFamily(
            "taskdash_nsqd_connections", "Open nsqd connections of the consumer", labels=["topic"]
        )
        by_topic: dict[str, int] = {}
        for source in list(self.connections):
            for topic, addresses in source.connected_by_topic().items():
                by_topic[topic] = by_topic.get(topic, 0) + len(addresses)
        for topic, count in sorted(by_topic.items()):
            nsqd.add_metric([topic], count)
        yield nsqd
        clients = sum(feed.subscriber_count for feed in list(self.streams))
        yield GaugeMetricFamily("taskdash_sse_clients", "Open live streams", value=clients)


_live = _LiveState()
REGISTRY.register(_live)


def watch_connections(source: Any) -> None:
    """Count `source.connected_by_topic()` in taskdash_nsqd_connections while it lives."""
    _live.connections.add(source)


def watch_streams(feed: Any) -> None:
    """Count `feed.subscriber_count` in taskdash_sse_clients while it lives."""
    _live.streams.add(feed)


def reason_kind(reason: str) -> str:
    """The bounded kind of a dead letter's reason (the wording of domain/events.py)."""
    kinds: tuple[tuple[Callable[[str], bool], str], ...] = (
        (lambda r: r.startswith("failed ") and "attempts" in r, "max_attempts"),
        (lambda r: r.startswith("body: ") and "more than" in r, "too_big"),
        (lambda r: r.startswith("invalid JSON"), "invalid_json"),
        (lambda r: r.startswith("body: a JSON"), "not_an_object"),
        (lambda r: "required, missing or empty" in r, "missing_field"),
        (lambda r: r.startswith("field "), "bad_field"),
        (lambda r: r.startswith("unknown topic"), "unknown_topic"),
    )
    for matches, kind in kinds:
        if matches(reason):
            return kind
    return "other"


def status_class(status: int) -> str:
    return f"{status // 100}xx"
