"""Prometheus metrics, served at GET /metrics (no API key: keep it off the public internet).

With several workers, `trunkline serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before
they start, so each worker's counts go to files there and any worker answers the sum of all of them.
That variable must be set before prometheus_client is first imported, which is why it is done in the
parent process (app/metrics_directory.py), before it loads the application its workers are forked with.
A dead worker's files stay: its counts happened, and totals must never drop; there is no per-process
gauge to clean up (phone numbers are counted in the database at each scrape). Labels are bounded:
operations are schema fields or "other", outcomes fixed sets.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response

from app.metrics_directory import MULTIPROC_DIR

HTTP_REQUESTS = Counter(
    "trunkline_http_requests", "HTTP requests answered, by GraphQL operation and status", ["operation", "status"]
)
HTTP_DURATION = Histogram(
    "trunkline_http_request_duration_seconds", "Time to answer an HTTP request", ["operation"]
)
async def metrics(_request: Request) -> Response:
    """Every worker's counters, and the phone numbers per status read from the database now."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    numbers = CollectorRegistry()
    numbers.register(_Snapshot(await _phone_numbers_by_status()))
    return Response(generate_latest(registry) + generate_latest(numbers), media_type=CONTENT_TYPE_LATEST)


async def _phone_numbers_by_status() -> GaugeMetricFamily:
    from tortoise.functions import Count

    from models import PhoneNumber
    from models.enums import PhoneNumberStatus

    rows = await PhoneNumber.annotate(n=Count("id")).group_by("status").values_list("status", "n")
    counts = {PhoneNumberStatus(status).value: n for status, n in rows}
    gauge = GaugeMetricFamily("trunkline_phone_numbers", "Phone numbers by status, all workspaces", labels=["status"])
    for status in PhoneNumberStatus:
        gauge.add_metric([status.value], counts.get(status.value, 0))
    return gauge


class _Snapshot:
    """A collector of values read before the (synchronous) exposition runs."""

    def __init__(self, *families) -> None:
        self.families = families

    def collect(self):
        return iter(self.families)
