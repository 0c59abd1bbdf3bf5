"""Mount health dashboards. They read stored sweeps and snapshots only: a page
never talks to a cluster, so a slow or unreachable cluster cannot slow or
break it. "Refresh now" only enqueues a sweep."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django_tables2 import RequestConfig

from secrets_app.health import selectors
from secrets_app.health.chart import trend_chart
from secrets_app.health.status import SEVERITY
from secrets_app.models import Cluster
from secrets_app.tasks.health import sweep_cluster_task
from secrets_app.web.tables import BindingHealthTable
from secrets_app.web.views.queued import queue_for_cluster

PER_PAGE = 50


@require_GET
def health_overview(request: HttpRequest) -> HttpResponse:
    clusters = list(selectors.cluster_overview())
    for cluster in clusters:
        cluster.status_counts = [getattr(cluster, f"n_{s}") for s in SEVERITY]
    context = {
        "clusters": clusters,
        "severity": SEVERITY,
        "chart": trend_chart(
            newest_sweep=max((c.last_sweep_id or 0 for c in clusters), default=0),
            now=selectors.total_counts(clusters),
        ),
    }
    return render(request, "secrets_app/health_overview.html", context)


@require_GET
def health_cluster(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    table = BindingHealthTable(selectors.bindings_with_latest(cluster))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    sweep = selectors.last_sweep(cluster)
    namespaces = selectors.namespace_counts(cluster)
    # A failed sweep read nothing: the checklist is the last good sweep's.
    checklist = sweep.readiness if sweep and sweep.ok else selectors.last_readiness(cluster)
    context = {
        "cluster": cluster,
        "readiness": checklist,
        "readiness_failing": sum(1 for c in checklist if not c.get("ok")),
        "table": table,
        "namespaces": namespaces,
        "severity": SEVERITY,
        "sweep": sweep,
        "chart": trend_chart(
            cluster,
            newest_sweep=sweep.pk if sweep else 0,
            now=selectors.total_counts(namespaces),
            label=f"{cluster.name}: bindings needing attention",
        ),
    }
    return render(request, "secrets_app/health_cluster.html", context)


@require_GET
def health_namespace(request: HttpRequest, name: str, namespace: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    table = BindingHealthTable(
        selectors.bindings_with_latest(cluster, namespace), exclude=("namespace",)
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    sweep = selectors.last_sweep(cluster)
    counts = selectors.namespace_counts(cluster, namespace)
    context = {
        "cluster": cluster,
        "namespace": namespace,
        "table": table,
        "sweep": sweep,
        "chart": trend_chart(
            cluster,
            namespace=namespace,
            newest_sweep=sweep.pk if sweep else 0,
            now=selectors.total_counts(counts),
            label=f"{cluster.name}/{namespace}: bindings needing attention",
        ),
    }
    return render(request, "secrets_app/health_namespace.html", context)


@require_POST
def health_refresh(request: HttpRequest, name: str) -> HttpResponse:
    # Any logged-in user may ask: the task's lock makes a second sweep of the
    # same cluster a no-op, so clicks cannot pile load on the API server.
    cluster = get_object_or_404(Cluster, name=name)
    return queue_for_cluster(
        request,
        cluster,
        sweep_cluster_task,
        what=f"A sweep of {cluster.name}",
        page="health-cluster",
    )
