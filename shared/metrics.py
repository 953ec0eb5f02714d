"""Prometheus metrics of one service, in a registry of its own.

The embedded run serves four services from one process; a registry per service keeps each
``/metrics`` about its own service. Names follow the Prometheus conventions (base units,
``_total`` counters, ``_seconds``); labels are bounded (route templates, topics, event types,
partitions), never customer ids.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

__all__ = ["CONTENT_TYPE_LATEST", "ServiceMetrics"]


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self._add_http_metrics(self.registry)
        self._add_event_metrics(self.registry)
        self._add_outbox_and_task_metrics(self.registry)

    def _add_http_metrics(self, r: CollectorRegistry) -> None:
        self.http_requests = Counter(
            "http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=r
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def _add_event_metrics(self, r: CollectorRegistry) -> None:
        self.events_published = Counter(
            "crm_events_published", "Events published from the outbox.", ["topic"], registry=r
        )
        self.events_consumed = Counter(
            "crm_events_consumed",
            "Events handled, by outcome (applied, duplicate, ignored).",
            ["group", "topic", "outcome"],
            registry=r,
        )
        self.events_failed = Counter(
            "crm_events_failed", "Failed handler attempts.", ["group", "topic"], registry=r
        )
        self.events_dead_lettered = Counter(
            "crm_events_dead_lettered",
            "Events sent to a dead-letter topic.",
            ["group", "topic"],
            registry=r,
        )
        self.handler_duration = Histogram(
            "crm_event_handler_duration_seconds",
            "Time to handle one event, its transaction included.",
            ["group", "topic"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "crm_consumer_lag",
            "Messages not yet handled and committed, per partition.",
            ["group", "topic", "partition"],
            registry=r,
        )

    def _add_outbox_and_task_metrics(self, r: CollectorRegistry) -> None:
        self.outbox_backlog = Gauge(
            "crm_outbox_backlog", "Events in the outbox not yet published.", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "crm_outbox_oldest_age_seconds",
            "Age of the oldest event not yet published (0 when none).",
            registry=r,
        )
        self.relay_failures = Counter(
            "crm_outbox_relay_failures", "Relay rounds that could not publish.", registry=r
        )
        self.background_task_up = Gauge(
            "crm_background_task_up",
            "1 while a background task (relay, consumer, job) runs; 0 while it is restarted or "
            "after it was given up.",
            ["task"],
            registry=r,
        )
        self.background_task_restarts = Counter(
            "crm_background_task_restarts",
            "Background tasks started again after they ended unexpectedly.",
            ["task"],
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
