"""Reads for the health pages: stored sweeps and snapshots only, never the cluster.

Every function costs a fixed number of queries, whatever the number of
bindings or clusters (counts are aggregated in SQL, the latest snapshot comes
from one windowed prefetch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    When,
)
from django.db.models import Value as V
from django.utils import timezone

from secrets_app.health.latest import WithLatestIterable
from secrets_app.health.service import LIVE_STATES
from secrets_app.health.status import SEVERITY, HealthStatus
from secrets_app.models import Binding, Cluster, ClusterSweep


def severity(field: str = "health_status") -> Case:
    """0 for the worst status, up to 4 for healthy (for ORDER BY)."""
    whens = [When(**{field: s}, then=V(i)) for i, s in enumerate(SEVERITY)]
    return Case(*whens, default=V(len(SEVERITY)), output_field=IntegerField())


def _grouped_counts(live: QuerySet[Binding], key: str) -> dict[Any, dict[str, int]]:
    """``key`` value -> ``n_<status>`` for every status, ``n_total`` and
    ``n_stale`` of the ``live`` bindings, in the database's order of ``key``
    (one GROUP BY of about five rows per key, summed here: cheaper to build
    and to run than seven ``COUNT(...) FILTER`` per key)."""
    groups = (
        live.order_by(key)
        .values_list(key, "health_status")
        # COUNT(stale_since): pods past the grace period on a rotated
        # secret's old version (rotation.py).
        .annotate(n=Count("pk"), stale=Count("stale_since"))
    )
    counted: dict[Any, dict[str, int]] = {}
    for value, status, n, stale in groups:
        found = counted.get(value)
        if found is None:
            found = counted[value] = {f"n_{s}": 0 for s in SEVERITY} | {"n_total": 0, "n_stale": 0}
        found[f"n_{status}"] = n
        found["n_total"] += n
        found["n_stale"] += stale
    return counted


def _worst_first(row: Mapping[str, int]) -> list[int]:
    """Sort key: more failing first, then degraded, unknown, pending (stable)."""
    return [-row[f"n_{s}"] for s in SEVERITY[:-1]]


def cluster_overview() -> list[Cluster]:
    """Every cluster with its bindings counted by status and its last sweep,
    worst first (2 queries).

    The live bindings are counted per (cluster, status) in one GROUP BY (a
    scan of the bindings and about 250 groups) and set on the clusters in
    Python, rather than joining every binding to its cluster and counting
    with seven FILTERs per cluster in one query (three times the SQL time at
    10,000 bindings). Both are read at the request, so the numbers are exact
    at every moment (a binding revoked or activated since the last sweep
    included). Plain ORM, no database-specific SQL: the demo runs on SQLite.
    """
    counted = _grouped_counts(Binding.objects.filter(state__in=LIVE_STATES), "cluster_id")
    last = ClusterSweep.objects.filter(cluster=OuterRef("pk")).order_by("-started_at", "-id")
    last_ok = last.filter(ok=True)
    # Only what the table shows: the rest of a cluster (repositories, paths,
    # dates) would be read and decoded 50 times for nothing.
    clusters = (
        Cluster.objects.only("name", "environment", "active")
        .annotate(
            last_sweep_id=Subquery(last.values("id")[:1]),
            last_sweep_at=Subquery(last.values("started_at")[:1]),
            last_sweep_ok=Subquery(last.values("ok")[:1]),
            last_sweep_error=Subquery(last.values("error")[:1]),
            last_ok_sweep_at=Subquery(last_ok.values("finished_at")[:1]),
        )
        .order_by("name")
    )  # the database's collation orders names, as before
    none = {f"n_{s}": 0 for s in SEVERITY} | {"n_total": 0, "n_stale": 0}
    shown = []
    for cluster in clusters:
        found = counted.get(cluster.pk, none)
        for name, n in found.items():
            setattr(cluster, name, n)
        cluster.status_counts = [found[f"n_{s}"] for s in SEVERITY]
        if cluster.active or cluster.n_total:
            shown.append(cluster)
    # Stable: clusters with the same counts keep the name order above.
    shown.sort(key=lambda c: _worst_first(counted.get(c.pk, none)))
    return shown


def namespace_counts(cluster: Cluster, namespace: str | None = None) -> list[dict]:
    """One row per namespace of the cluster's live bindings (or only
    ``namespace``'s), worst first, each with ``n_<status>``, ``n_total``,
    ``n_stale`` and ``counts`` in ``SEVERITY`` order (one query)."""
    live = Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    if namespace is not None:
        live = live.filter(namespace=namespace)
    # Stable: namespaces with the same counts keep the database's name order.
    rows = sorted(
        (
            {"namespace": name, **found, "counts": [found[f"n_{s}"] for s in SEVERITY]}
            for name, found in _grouped_counts(live, "namespace").items()
        ),
        key=_worst_first,
    )
    return rows


def total_counts(rows: Iterable[Mapping[str, int] | Cluster]) -> dict[str, int]:
    """Status -> bindings, summed over rows with ``n_<status>`` (dicts or
    annotated clusters): the tables' own numbers, which the trend shows as
    "now", so that both agree."""

    def n(row, status: str) -> int:
        key = f"n_{status}"
        return int(row[key] if isinstance(row, Mapping) else getattr(row, key))

    rows = list(rows)
    return {s.value: sum(n(r, s) for r in rows) for s in SEVERITY}


#: The binding columns the health table shows or ``pending_reason`` names.
TABLE_FIELDS = (
    "cluster__name",
    "namespace",
    "service",
    "health_status",
    "health_checked_at",
    "workload_kind",
    "workload_name",
    "secret_provider_class",
)


def bindings_with_latest(cluster: Cluster, namespace: str | None = None) -> QuerySet[Binding]:
    """Live bindings, each with ``latest``: their newest snapshots, newest
    first, as many as it takes to tell a binding pending for a while
    (``HEALTH_PENDING_SWEEPS``), read when the queryset is evaluated (one
    query for the page, ``health.latest``).

    Only the columns the health table shows are read: the JSON of drift,
    versions, files and leftovers and six dates were decoded per row for
    nothing. Reading another column costs a query per row; the pages'
    constant-query tests catch that."""
    qs = Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    if namespace is not None:
        qs = qs.filter(namespace=namespace)
    qs = (
        qs.select_related("cluster")
        .only(*TABLE_FIELDS)
        .annotate(severity=severity())
        .order_by("severity", "namespace", "service_account")
    )
    # The shown page's snapshots, after the table orders and slices.
    qs._iterable_class = WithLatestIterable
    return qs


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
