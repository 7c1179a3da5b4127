"""Prometheus metrics: counters and histograms kept per process (shared between gunicorn
workers through PROMETHEUS_MULTIPROC_DIR), and the text a scrape of /metrics returns.

prometheus-client decides at import time whether it runs in multiprocess mode, so it is
imported on first use: `vehiclewatch serve` sets the directory before gunicorn forks its
workers, which import it then. Labels never carry a token, plate, receipt or address: a
route is its template (`/v/<token>`), a source or state one of a few fixed words."""

import functools
import os
import threading
from collections.abc import Callable, Iterable

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


_made = threading.Lock()


def _instruments():
    with _made:  # made once per process, even when threads ask at once
        return _make_instruments()


@functools.cache
def _make_instruments():
    from prometheus_client import Counter, Histogram

    return {
        "requests": Counter(
            "vehiclewatch_http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
        ),
        "latency": Histogram(
            "vehiclewatch_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
        ),
        "reports": Counter(
            "vehiclewatch_reports_filed_total", "Reports filed, by source.", ["source"]
        ),
        "photo_errors": Counter(
            "vehiclewatch_photo_store_errors_total",
            "Failed photo store operations, by operation.",
            ["operation"],
        ),
    }


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    _instruments()["requests"].labels(route, method, str(status)).inc()
    _instruments()["latency"].labels(route).observe(seconds)


def report_filed(source: str) -> None:
    _instruments()["reports"].labels(source).inc()


def photo_store_error(operation: str) -> None:
    _instruments()["photo_errors"].labels(operation).inc()


Gauge = tuple[str, str, list[tuple[dict[str, str], float]]]


def exposition(gauges: Callable[[], Iterable[Gauge]]) -> tuple[bytes, str]:
    """The scrape: every process's counters and histograms, plus `gauges()` — (name, help,
    [(labels, value)]) read at scrape time (from the database, not kept per process)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector

    _instruments()  # every family shows, at zero, from the first scrape on

    class Gauges:
        def collect(self):
            for name, help_text, samples in gauges():
                labels = sorted({k for sample_labels, _ in samples for k in sample_labels})
                family = GaugeMetricFamily(name, help_text, labels=labels)
                for sample_labels, value in samples:
                    family.add_metric([sample_labels[k] for k in labels], value)
                yield family

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(Gauges())
        return generate_latest(registry), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    registry.register(Gauges())
    return generate_latest(REGISTRY) + generate_latest(registry), CONTENT_TYPE_LATEST
