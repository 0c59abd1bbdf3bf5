"""Mount health dashboards. They read stored sweeps and snapshots only: a page
never talks to a cluster, so a slow or unreachable cluster cannot slow or
break it. "Refresh now" only enqueues a sweep.

Each page's middle (everything but the heading and the Refresh form, which
holds the user's CSRF token) is a cached fragment (secrets_app/pagecache): a
cluster's pages move with that cluster's sweeps, the overview with any
sweep, all of them with any other write to the tables they read."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_tables2 import RequestConfig

from secrets_app.health import selectors
from secrets_app.health.chart import trend_chart
from secrets_app.health.status import SEVERITY
from secrets_app.models import (
    Binding,
    Cluster,
    ClusterSweep,
    HealthSnapshot,
)
from secrets_app.pagecache.fragments import (
    TABLE_PARAMETERS,
    cached_fragment,
    depends_on,
    plain_query,
    query_part,
)
from secrets_app.pagecache.generations import FLEET_KEY, cluster_key
from secrets_app.tasks.health import sweep_cluster_task
from secrets_app.web.tables import BindingHealthTable
from secrets_app.web.views.queued import queue_for_cluster

PER_PAGE = 50
#: The tables the dashboards' fragments read (tests/pagecache checks the SQL).
READS = depends_on(Binding, Cluster, ClusterSweep, HealthSnapshot)


@require_GET
def health_overview(request: HttpRequest) -> HttpResponse:
    body = cached_fragment(
        "health-overview",
        (),
        (*READS, FLEET_KEY),
        lambda: render_to_string("secrets_app/_health_overview_body.html", _overview_context()),
        cacheable=plain_query(request, ()),
    )
    return render(request, "secrets_app/health_overview.html", {"body": body})


def _overview_context() -> dict:
    clusters = selectors.cluster_overview()  # a list, with status_counts set
    return {
        "clusters": clusters,
        "severity": SEVERITY,
        "chart": trend_chart(
            newest_sweep=max((c.last_sweep_id or 0 for c in clusters), default=0),
            now=selectors.total_counts(clusters),
        ),
    }


@require_GET
def health_cluster(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    body = cached_fragment(
        "health-cluster",
        (cluster.pk, query_part(request)),
        (*READS, cluster_key(cluster.pk)),
        lambda: render_to_string(
            "secrets_app/_health_cluster_body.html", _cluster_context(request, cluster)
        ),
        cacheable=plain_query(request, TABLE_PARAMETERS),
    )
    return render(request, "secrets_app/health_cluster.html", {"cluster": cluster, "body": body})


def _cluster_context(request: HttpRequest, cluster: Cluster) -> dict:
    table = BindingHealthTable(selectors.bindings_with_latest(cluster))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    sweep = selectors.last_sweep(cluster)
    namespaces = selectors.namespace_counts(cluster)
    # A failed sweep read nothing: the checklist is the last good sweep's.
    checklist = sweep.readiness if sweep and sweep.ok else selectors.last_readiness(cluster)
    return {
        "request": request,
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


@require_GET
def health_namespace(request: HttpRequest, name: str, namespace: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    body = cached_fragment(
        "health-namespace",
        (cluster.pk, namespace, query_part(request)),
        (*READS, cluster_key(cluster.pk)),
        lambda: render_to_string(
            "secrets_app/_health_namespace_body.html",
            _namespace_context(request, cluster, namespace),
        ),
        cacheable=plain_query(request, TABLE_PARAMETERS),
    )
    context = {"cluster": cluster, "namespace": namespace, "body": body}
    return render(request, "secrets_app/health_namespace.html", context)


def _namespace_context(request: HttpRequest, cluster: Cluster, namespace: str) -> dict:
    table = BindingHealthTable(
        selectors.bindings_with_latest(cluster, namespace), exclude=("namespace",)
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    sweep = selectors.last_sweep(cluster)
    counts = selectors.namespace_counts(cluster, namespace)
    return {
        "request": request,
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
