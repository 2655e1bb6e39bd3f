"""The service's metrics, kept and written by prometheus_client.

Counted: requests by route and status, request latency (a histogram per route), checks by kind
(check, explain, batch) and phase, rejected records, reloads and failed reloads, and the rulebook
in use. The metrics are listed in docs/operations.md.

Under `bip serve` the counts are added up over all workers and the master: `bip serve` sets
`PROMETHEUS_MULTIPROC_DIR` to a folder of its own before prometheus_client is imported, each
process writes its values there, a scrape of any worker reads them all (`MultiProcessCollector`),
and the master marks a worker that exits as dead. Without that variable (an app made in a test),
each `Metrics` has a registry of its own, so two applications in one process never share counters.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

disable_created_metrics()  # a `_created` sample beside every counter only doubles what a scrape carries

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The counters and histograms of one process (prometheus_client's metrics are thread-safe)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started = time.time()
        self._requests = Counter(
            "bip_http_requests",
            "HTTP requests answered, by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "bip_http_request_duration_seconds",
            "Time to answer a request, by route",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._checks = Counter(
            "bip_checks", "Checks and explanations made, by kind and phase", ["kind", "phase"], registry=self.registry
        )
        self._rejected = Counter("bip_rejected_records", "Citizen records refused as invalid", registry=self.registry)
        self._reloads = Counter("bip_reloads", "Rulebook reloads, by result", ["result"], registry=self.registry)
        self._reload_failures = Counter(
            "bip_reload_failures", "Rulebook reloads that failed (the old rules stayed)", registry=self.registry
        )
        for result in ("ok", "failed"):
            self._reloads.labels(result=result)
        self._rulebook = Gauge(
            "bip_rulebook_info",
            "The rulebook in use",
            ["name", "version", "hash"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._shown: tuple[str, str, str] | None = None
        start = Gauge(
            "bip_process_start_time_seconds",
            "When the oldest running process started",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        start.set(round(self.started, 3))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self._requests.labels(route=route, method=method, status=str(status)).inc()
        self._latency.labels(route=route).observe(seconds)

    def observe_check(self, kind: str, phase: str | None) -> None:
        """Count one check or explain by the phase it gave."""
        self._checks.labels(kind=kind, phase=phase or "none").inc()

    def observe_rejected(self, count: int = 1) -> None:
        """Count records refused as invalid."""
        self._rejected.inc(count)

    def observe_reload(self, ok: bool) -> None:
        """Count one reload attempt."""
        self._reloads.labels(result="ok" if ok else "failed").inc()
        if not ok:
            self._reload_failures.inc()

    def render(self, rulebook: tuple[str, str, str] | None = None) -> str:
        """The metrics in Prometheus' text format, with the rulebook in use as an info gauge."""
        if rulebook and rulebook != self._shown:
            name, version, content_hash = rulebook
            if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a worker's rulebook never changes there
                self._rulebook.clear()
            self._rulebook.labels(name=name, version=version, hash=content_hash).set(1)
            self._shown = rulebook
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry).decode("utf-8")
        return generate_latest(self.registry).decode("utf-8")
