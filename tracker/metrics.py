"""Prometheus metrics of one tracker application."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    """Counters and histograms in a registry of their own, one per application,
    so several applications in one process (tests) never share series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "leadroi_tracker_events_accepted",
            "Events stored in Kafka, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "leadroi_tracker_events_rejected",
            "Events refused, by kind and reason class.",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.oversize = Counter(
            "leadroi_tracker_oversize_rejections",
            "Requests refused for their size (413, 414), by endpoint.",
            ["endpoint"],
            registry=self.registry,
        )
        self.sink_failures = Counter(
            "leadroi_tracker_sink_failures",
            "Sends that Kafka did not acknowledge in time, by what was sent.",
            ["what"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "leadroi_tracker_request_seconds",
            "Time from request to response, by route, method and status.",
            ["route", "method", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
