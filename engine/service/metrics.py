"""The service's metrics, written in the Prometheus text format (version 0.0.4) by hand.

Counted per process: requests by route and status, request latency (a histogram per route),
checks by phase, rejected records, reloads and failed reloads. With `--workers N` each worker
has its own counters; a scrape reaches one of them (see the README).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**labels: str) -> str:
    inner = ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items())
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Thread-safe counters and histograms of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: Counter = Counter()  # (route, method, status)
        self.latency_buckets: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.latency_count: Counter = Counter()
        self.checks: Counter = Counter()  # (kind, phase)
        self.rejected = 0
        self.reloads: Counter = Counter()  # "ok" | "failed"
        self.decisions = 0

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        with self._lock:
            self.requests[(route, method, str(status))] += 1
            buckets = self.latency_buckets.setdefault(route, [0] * len(BUCKETS))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[index] += 1
            self.latency_sum[route] = self.latency_sum.get(route, 0.0) + seconds
            self.latency_count[route] += 1

    def observe_check(self, kind: str, phase: str | None) -> None:
        """Count one check or explain by the phase it gave."""
        with self._lock:
            self.checks[(kind, phase or "none")] += 1

    def observe_rejected(self, count: int = 1) -> None:
        """Count records refused as invalid."""
        with self._lock:
            self.rejected += count

    def observe_reload(self, ok: bool) -> None:
        """Count one reload attempt."""
        with self._lock:
            self.reloads["ok" if ok else "failed"] += 1

    def render(self, rulebook: tuple[str, str, str] | None = None) -> str:
        """The metrics as Prometheus text."""
        with self._lock:
            lines: list[str] = []
            lines += _family(
                "bip_http_requests_total",
                "counter",
                "HTTP requests answered, by route, method and status",
                ((_labels(route=r, method=m, status=s), n) for (r, m, s), n in sorted(self.requests.items())),
            )
            lines += [
                "# HELP bip_http_request_duration_seconds Time to answer a request, by route",
                "# TYPE bip_http_request_duration_seconds histogram",
            ]
            for route in sorted(self.latency_buckets):
                for bound, count in zip(BUCKETS, self.latency_buckets[route], strict=True):
                    lines.append(
                        f"bip_http_request_duration_seconds_bucket{_labels(route=route, le=repr(bound))} {count}"
                    )
                lines.append(
                    f"bip_http_request_duration_seconds_bucket{_labels(route=route, le='+Inf')} "
                    f"{self.latency_count[route]}"
                )
                lines.append(
                    f"bip_http_request_duration_seconds_sum{_labels(route=route)} {self.latency_sum[route]:.6f}"
                )
                lines.append(
                    f"bip_http_request_duration_seconds_count{_labels(route=route)} {self.latency_count[route]}"
                )
            lines += _family(
                "bip_checks_total",
                "counter",
                "Checks and explanations made, by kind and phase",
                ((_labels(kind=k, phase=p), n) for (k, p), n in sorted(self.checks.items())),
            )
            lines += _family(
                "bip_rejected_records_total", "counter", "Citizen records refused as invalid", [("", self.rejected)]
            )
            lines += _family(
                "bip_reloads_total",
                "counter",
                "Rulebook reloads, by result",
                ((_labels(result=r), self.reloads[r]) for r in ("ok", "failed")),
            )
            lines += _family(
                "bip_reload_failures_total",
                "counter",
                "Rulebook reloads that failed (the old rules stayed)",
                [("", self.reloads["failed"])],
            )
            if rulebook:
                name, version, content_hash = rulebook
                lines += _family(
                    "bip_rulebook_info",
                    "gauge",
                    "The rulebook in use",
                    [(_labels(name=name, version=version, hash=content_hash), 1)],
                )
            lines += _family(
                "bip_process_start_time_seconds", "gauge", "When this process started", [("", round(self.started, 3))]
            )
        return "\n".join(lines) + "\n"


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"] + [
        f"{name}{labels} {value}" for labels, value in samples
    ]
