"""Prometheus metrics: HTTP requests and task outcomes counted as they
happen; sweeps and bindings read from the database at scrape time (one query
each), so every web process reports the same numbers.

With several gunicorn or Celery processes set PROMETHEUS_MULTIPROC_DIR (an
empty directory per pod) so counters from all of them are added up.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
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
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests served, by method, URL route name and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to serve an HTTP request, by method, URL route name and status.",
    ["method", "route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASK_OUTCOMES = Counter(
    "portal_task_outcomes",
    "Celery task outcomes (success, failure, retry), by task name.",
    ["task", "outcome"],
)
PAGE_CACHE = Counter(
    "portal_page_cache",
    "Cached page fragments served (hit), built (miss) or built without the cache (bypass).",
    ["page", "result"],
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    labels = (method, route, str(status))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_LATENCY.labels(*labels).observe(seconds)


def count_page_cache(page: str, result: str) -> None:
    PAGE_CACHE.labels(page, result).inc()


def count_task(task: str, outcome: str) -> None:
    TASK_OUTCOMES.labels(task, outcome).inc()


class SweepCollector(Collector):
    """The latest sweep of each cluster: how long it took, whether it worked
    and when it started (alert when that gets old)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from secrets_app.models import Cluster, ClusterSweep

        duration = GaugeMetricFamily(
            "portal_cluster_sweep_duration_seconds",
            "Duration of the latest health sweep of each cluster.",
            labels=["cluster"],
        )
        ok = GaugeMetricFamily(
            "portal_cluster_sweep_ok",
            "1 if the latest sweep of the cluster worked.",
            labels=["cluster"],
        )
        started = GaugeMetricFamily(
            "portal_cluster_sweep_started_timestamp_seconds",
            "Start of the latest sweep of each cluster (Unix time).",
            labels=["cluster"],
        )
        latest = Cluster.objects.annotate(
            latest=Subquery(
                ClusterSweep.objects.filter(cluster=OuterRef("pk"))
                .order_by("-started_at")
                .values("pk")[:1]
            )
        ).values("latest")
        sweeps = ClusterSweep.objects.filter(pk__in=latest).values_list(
            "cluster__name", "started_at", "finished_at", "ok"
        )
        for name, start, finish, succeeded in sweeps:
            if finish is not None:
                duration.add_metric([name], (finish - start).total_seconds())
            ok.add_metric([name], 1.0 if succeeded else 0.0)
            started.add_metric([name], start.timestamp())
        yield from (duration, ok, started)


class BindingHealthCollector(Collector):
    """Bindings per lifecycle state and health verdict: one GROUP BY query."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from secrets_app.models import Binding

        family = GaugeMetricFamily(
            "portal_bindings", "Bindings by state and health status.", labels=["state", "health"]
        )
        rows = (
            Binding.objects.order_by().values_list("state", "health_status").annotate(n=Count("id"))
        )
        for state, health, n in rows:
            family.add_metric([state, health], n)
        yield family


class _Guarded(Collector):
    """A scrape must not fail because the database is down: the collector's
    series are left out and the error logged (readyz reports the outage)."""

    def __init__(self, inner: Collector) -> None:
        self.inner = inner

    def describe(self) -> list:
        # Without describe() the registry calls collect() when registering,
        # which would query the database at import time (apps.ready()).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            families = list(self.inner.collect())
        except Exception as error:
            # One line per scrape, not a traceback: readyz reports the outage.
            log.warning("metrics collector %s failed: %s", type(self.inner).__name__, error)
            return
        yield from families


DATABASE_COLLECTORS = (_Guarded(SweepCollector()), _Guarded(BindingHealthCollector()))
for _collector in DATABASE_COLLECTORS:
    REGISTRY.register(_collector)


def scrape_registry() -> CollectorRegistry:
    """The registry to expose: this process's, or every process's in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in DATABASE_COLLECTORS:
        registry.register(collector)
    return registry


def metrics_allowed(request: HttpRequest) -> bool:
    """METRICS_PUBLIC, or ``Authorization: Bearer <METRICS_TOKEN>``, or a staff session."""
    if settings.METRICS_PUBLIC:
        return True
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    ):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


@login_not_required
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        response = HttpResponse("metrics need a bearer token or a staff login\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
