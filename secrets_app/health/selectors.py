"""Reads for the health pages: stored sweeps and snapshots only, never the cluster.

Every function costs a fixed number of queries, whatever the number of
bindings or clusters (counts are aggregated in SQL, the latest snapshot comes
from one windowed prefetch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models import Value as V
from django.utils import timezone

from secrets_app.health.service import LIVE_STATES
from secrets_app.health.status import SEVERITY, HealthStatus
from secrets_app.models import Binding, Cluster, ClusterSweep, HealthSnapshot


def severity(field: str = "health_status") -> Case:
    """0 for the worst status, up to 4 for healthy (for ORDER BY)."""
    whens = [When(**{field: s}, then=V(i)) for i, s in enumerate(SEVERITY)]
    return Case(*whens, default=V(len(SEVERITY)), output_field=IntegerField())


def _status_counts(relation: str = "") -> dict[str, Count]:
    """``n_<status>`` and ``n_total`` of live bindings, reached through ``relation``."""
    prefix = f"{relation}__" if relation else ""
    counted = relation or "pk"
    live = Q(**{f"{prefix}state__in": LIVE_STATES})
    counts = {
        f"n_{s}": Count(counted, filter=live & Q(**{f"{prefix}health_status": s})) for s in SEVERITY
    }
    counts["n_total"] = Count(counted, filter=live)
    # Pods past the grace period on a rotated secret's old version (rotation.py).
    counts["n_stale"] = Count(counted, filter=live & Q(**{f"{prefix}stale_since__isnull": False}))
    return counts


def _worst_first() -> list:
    return [f"-n_{s}" for s in SEVERITY[:-1]]


def cluster_overview() -> QuerySet[Cluster]:
    """Every cluster with its bindings counted by status and its last sweep, worst first."""
    last = ClusterSweep.objects.filter(cluster=OuterRef("pk")).order_by("-started_at", "-id")
    last_ok = last.filter(ok=True)
    return (
        Cluster.objects.annotate(
            **_status_counts("bindings"),
            last_sweep_id=Subquery(last.values("id")[:1]),
            last_sweep_at=Subquery(last.values("started_at")[:1]),
            last_sweep_ok=Subquery(last.values("ok")[:1]),
            last_sweep_error=Subquery(last.values("error")[:1]),
            last_ok_sweep_at=Subquery(last_ok.values("finished_at")[:1]),
        )
        .filter(Q(active=True) | Q(n_total__gt=0))
        .order_by(*_worst_first(), "name")
    )


def namespace_counts(cluster: Cluster, namespace: str | None = None) -> list[dict]:
    """One row per namespace of the cluster's live bindings (or only
    ``namespace``'s), worst first, each with ``counts`` in ``SEVERITY`` order."""
    live = Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    if namespace is not None:
        live = live.filter(namespace=namespace)
    rows = (
        live.values("namespace").annotate(**_status_counts()).order_by(*_worst_first(), "namespace")
    )
    return [{**row, "counts": [row[f"n_{s}"] for s in SEVERITY]} for row in rows]


def total_counts(rows: Iterable[Mapping[str, int] | Cluster]) -> dict[str, int]:
    """Status -> bindings, summed over rows with ``n_<status>`` (dicts or
    annotated clusters): the tables' own numbers, which the trend shows as
    "now", so that both agree."""

    def n(row, status: str) -> int:
        key = f"n_{status}"
        return int(row[key] if isinstance(row, Mapping) else getattr(row, key))

    rows = list(rows)
    return {s.value: sum(n(r, s) for r in rows) for s in SEVERITY}


def bindings_with_latest(cluster: Cluster, namespace: str | None = None) -> QuerySet[Binding]:
    """Live bindings with ``latest`` prefetched: their newest snapshots, newest
    first, as many as it takes to tell a binding pending for a while
    (``HEALTH_PENDING_SWEEPS``)."""
    qs = Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    if namespace is not None:
        qs = qs.filter(namespace=namespace)
    # A sliced Prefetch is one query with a window function (Django >= 4.2).
    latest = HealthSnapshot.objects.order_by("-taken_at", "-id")[
        : max(1, settings.HEALTH_PENDING_SWEEPS)
    ]
    return (
        qs.select_related("cluster")
        .annotate(severity=severity())
        .prefetch_related(Prefetch("snapshots", queryset=latest, to_attr="latest"))
        .order_by("severity", "namespace", "service_account")
    )


def last_sweep(cluster: Cluster) -> ClusterSweep | None:
    return ClusterSweep.objects.filter(cluster=cluster).order_by("-started_at", "-id").first()


def last_readiness(cluster: Cluster | int) -> list[dict]:
    """The readiness checklist of the cluster's last successful sweep (one
    query; [] when none succeeded): a failed sweep read nothing."""
    found = (
        ClusterSweep.objects.filter(cluster=cluster, ok=True)
        .order_by("-started_at", "-id")
        .values_list("readiness", flat=True)
        .first()
    )
    return found or []


def is_stale(status: str, checked_at: datetime | None, now: datetime | None = None) -> bool:
    """A verdict is stale when the last sweep failed or none succeeded for a while."""
    if checked_at is None:
        return False  # never swept: nothing to call stale
    if status == HealthStatus.UNKNOWN:
        return True
    now = now or timezone.now()
    return now - checked_at > timedelta(minutes=settings.HEALTH_STALE_MINUTES)
