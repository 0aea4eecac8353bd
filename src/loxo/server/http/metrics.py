"""Prometheus metrics of one server: requests and their latencies (by route template, never
by raw path), bytes in and out, and — read from the metadata DB at scrape time — jobs and
datums by state, pipelines, open upload sessions and event subscribers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from loxo.service import Service

    from ..events import EventBus
    from .uploads import Uploads

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self, service: Service, uploads: Uploads, bus: EventBus) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loxo_http_requests", "HTTP requests served", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "loxo_http_request_seconds", "HTTP request latency (until the response starts)",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.bytes_in = Counter(
            "loxo_http_received_bytes", "Request body bytes received", registry=self.registry
        )
        self.bytes_out = Counter(
            "loxo_http_sent_bytes", "Declared response body bytes sent", registry=self.registry
        )
        self.registry.register(_StateCollector(service, uploads, bus))

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "other")
        self.latency.labels(request.method, template).observe(time.perf_counter() - start)
        self.requests.labels(request.method, template, str(response.status_code)).inc()
        if n := request.headers.get("content-length"):
            self.bytes_in.inc(int(n))
        if n := response.headers.get("content-length"):
            self.bytes_out.inc(int(n))
        return response


class _StateCollector(Collector):
    def __init__(self, service: Service, uploads: Uploads, bus: EventBus) -> None:
        self.service, self.uploads, self.bus = service, uploads, bus

    def collect(self) -> Iterator[GaugeMetricFamily]:
        db = self.service.db
        jobs = GaugeMetricFamily("loxo_jobs", "Jobs by state", labels=["state"])
        for state, n in db.all("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
            jobs.add_metric([state], n)
        yield jobs
        datums = GaugeMetricFamily("loxo_datums", "Datums by state", labels=["state"])
        for state, n in db.all("SELECT state, COUNT(*) FROM datums GROUP BY state"):
            datums.add_metric([state], n)
        yield datums
        yield GaugeMetricFamily(
            "loxo_pipelines", "Pipelines", value=db.one("SELECT COUNT(*) FROM pipelines")[0]
        )
        yield GaugeMetricFamily(
            "loxo_upload_sessions", "Open upload sessions", value=len(self.uploads)
        )
        yield GaugeMetricFamily(
            "loxo_event_subscribers", "Live event subscribers", value=self.bus.subscribers
        )
