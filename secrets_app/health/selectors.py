"""Reads for the health pages: stored sweeps and snapshots only, never the cluster.

Every function costs a fixed number of queries, whatever the number of
bindings or clusters (counts are aggregated in SQL, the latest snapshot comes
from one windowed prefetch).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
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
from django.db.models.expressions import RawSQL
from django.utils import timezone

from secrets_app.health.service import LIVE_STATES
from secrets_app.models import Binding, Cluster, ClusterSweep, HealthSnapshot, HealthStatus

#: Worst first: what on-call should look at before anything else.
SEVERITY: tuple[str, ...] = (
    HealthStatus.FAILING,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
    HealthStatus.PENDING,
    HealthStatus.HEALTHY,
)


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


def namespace_counts(cluster: Cluster) -> list[dict]:
    """One row per namespace of the cluster's live bindings, worst first."""
    rows = (
        Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
        .values("namespace")
        .annotate(**_status_counts())
        .order_by(*_worst_first(), "namespace")
    )
    return list(rows)


def bindings_with_latest(cluster: Cluster, namespace: str | None = None) -> QuerySet[Binding]:
    """Live bindings with ``latest`` (a list of at most one snapshot) prefetched."""
    qs = Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    if namespace is not None:
        qs = qs.filter(namespace=namespace)
    # A sliced Prefetch is one query with a window function (Django >= 4.2).
    latest = HealthSnapshot.objects.order_by("-taken_at", "-id")[:1]
    return (
        qs.select_related("cluster")
        .annotate(severity=severity())
        .prefetch_related(Prefetch("snapshots", queryset=latest, to_attr="latest"))
        .order_by("severity", "namespace", "service_account")
    )


def last_sweep(cluster: Cluster) -> ClusterSweep | None:
    return ClusterSweep.objects.filter(cluster=cluster).order_by("-started_at", "-id").first()


def is_stale(status: str, checked_at: datetime | None, now: datetime | None = None) -> bool:
    """A verdict is stale when the last sweep failed or none succeeded for a while."""
    if checked_at is None:
        return False  # never swept: nothing to call stale
    if status == HealthStatus.UNKNOWN:
        return True
    now = now or timezone.now()
    return now - checked_at > timedelta(minutes=settings.HEALTH_STALE_MINUTES)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: datetime
    counts: dict[str, int] | None  # None: no cluster had been swept yet


def trend(
    cluster: Cluster | None = None,
    *,
    hours: int = 24,
    buckets: int = 48,
    now: datetime | None = None,
) -> list[TrendPoint]:
    """Bindings per status over time, summed over clusters (one query).

    Each bucket takes, per cluster, the last sweep at or before its end, so a
    cluster swept every 5 minutes and one swept hourly add up without dips.
    """
    now = now or timezone.now()
    start = now - timedelta(hours=hours)
    width = (now - start) / buckets
    sweeps = ClusterSweep.objects.filter(started_at__gte=start, started_at__lte=now)
    if cluster is not None:
        sweeps = sweeps.filter(cluster=cluster)
    # Only each cluster's last sweep in each bucket counts, so the database
    # picks it: a day of 5-minute sweeps of 50 clusters is 14,400 rows, and
    # reading them all cost the dashboard ~0.5 s (bench/load.py). Bucket b
    # (1-based) holds start + width * (b - 1) < started_at <= start + width * b.
    if not connection.features.can_distinct_on_fields:
        # SQLite (the demo): a small history, bucketed here; later sweeps of a
        # bucket overwrite earlier ones in _bucket, as DISTINCT ON would pick.
        rows = [
            (cluster_id, _bucket_of(started_at, start, width), counts)
            for cluster_id, started_at, counts in sweeps.order_by("started_at", "id").values_list(
                "cluster_id", "started_at", "counts"
            )
        ]
        return _bucket(rows, start, width, buckets)
    index = RawSQL(
        "GREATEST(1, CEIL(DATE_PART('epoch', started_at - %s) / %s))::integer",
        (start, width.total_seconds()),
        output_field=IntegerField(),
    )
    rows = (
        sweeps.annotate(bucket=index)
        .order_by("cluster_id", "bucket", "-started_at", "-id")
        .distinct("cluster_id", "bucket")
        .values_list("cluster_id", "bucket", "counts")
    )
    return _bucket(sorted(rows, key=lambda row: row[1]), start, width, buckets)


def _bucket_of(started_at: datetime, start: datetime, width: timedelta) -> int:
    """The SQL expression's bucket: b holds start + width*(b-1) < t <= start + width*b."""
    return max(1, math.ceil((started_at - start) / width))


def _bucket(rows: Iterable[tuple], start: datetime, width: timedelta, buckets: int) -> list:
    """Carry each cluster's latest counts forward; rows are (cluster, bucket, counts)."""
    latest: dict[int, dict[str, int]] = {}
    rows = list(rows)
    points: list[TrendPoint] = []
    i = 0
    for b in range(1, buckets + 1):
        edge = start + width * b
        while i < len(rows) and rows[i][1] <= b:
            latest[rows[i][0]] = rows[i][2] or {}
            i += 1
        if not latest:
            points.append(TrendPoint(edge, None))
            continue
        total = {s: sum(int(c.get(s, 0)) for c in latest.values()) for s in SEVERITY}
        points.append(TrendPoint(edge, total))
    return points
