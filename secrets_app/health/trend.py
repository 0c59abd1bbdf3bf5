"""Bindings per status over the last day, for the dashboards' trend.

A cluster's (or all clusters') history comes from its sweeps' counts; a
namespace's from its live bindings' snapshots. Either is one query. The last
point is "now": the page's table counts, so the chart's numbers and the
table's are the same numbers (``with_now``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from secrets_app.health.service import LIVE_STATES
from secrets_app.health.status import SEVERITY
from secrets_app.models import Cluster, ClusterSweep, HealthSnapshot

HOURS, BUCKETS = 24, 48


@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: datetime
    counts: dict[str, int] | None  # None: nothing had been swept yet


@dataclass(frozen=True, slots=True)
class Window:
    """``buckets`` buckets over the ``hours`` before ``now``. Bucket b
    (1-based) holds start + width * (b - 1) < t <= start + width * b."""

    now: datetime
    hours: int = HOURS
    buckets: int = BUCKETS

    @property
    def start(self) -> datetime:
        return self.now - timedelta(hours=self.hours)

    @property
    def width(self) -> timedelta:
        return timedelta(hours=self.hours) / self.buckets

    def index(self, at: datetime) -> int:
        return max(1, math.ceil((at - self.start) / self.width))


def trend(
    cluster: Cluster | None = None,
    *,
    hours: int = HOURS,
    buckets: int = BUCKETS,
    now: datetime | None = None,
) -> list[TrendPoint]:
    """Bindings per status over time, summed over clusters (one query).

    Each bucket takes, per cluster, the last sweep at or before its end, so a
    cluster swept every 5 minutes and one swept hourly add up without dips.
    """
    window = Window(now or timezone.now(), hours, buckets)
    sweeps = ClusterSweep.objects.filter(started_at__gte=window.start, started_at__lte=window.now)
    if cluster is not None:
        sweeps = sweeps.filter(cluster=cluster)
    # A day of 5-minute sweeps of 50 clusters is 14,400 rows, and reading
    # them all cost the dashboard ~0.5 s (bench/load.py): the database picks
    # each cluster's last sweep in each bucket.
    rows = _latest_per_bucket(sweeps, window, "started_at", "cluster_id", "counts")
    return _carry_forward(rows, window)


def namespace_trend(
    cluster: Cluster,
    namespace: str,
    *,
    hours: int = HOURS,
    buckets: int = BUCKETS,
    now: datetime | None = None,
) -> list[TrendPoint]:
    """The namespace's live bindings per status over time (one query): each
    binding counts with its last snapshot at or before each bucket's end."""
    window = Window(now or timezone.now(), hours, buckets)
    snapshots = HealthSnapshot.objects.filter(
        binding__cluster=cluster,
        binding__namespace=namespace,
        binding__state__in=LIVE_STATES,
        taken_at__gte=window.start,
        taken_at__lte=window.now,
    )
    rows = _latest_per_bucket(snapshots, window, "taken_at", "binding_id", "status")
    return _carry_forward(((key, b, {status: 1}) for key, b, status in rows), window)


def with_now(points: list[TrendPoint], counts: Mapping[str, int]) -> list[TrendPoint]:
    """``points`` with the last one replaced by ``counts``: the page's table
    (bindings as they stand now, including any made or revoked since the
    last sweep) rather than the last sweep's tally."""
    if not points:
        return points
    return [*points[:-1], TrendPoint(points[-1].at, {s.value: counts.get(s, 0) for s in SEVERITY})]


def _latest_per_bucket(qs: QuerySet, window: Window, at: str, key: str, value: str) -> list[tuple]:
    """(key, bucket, value) of each key's latest row in each bucket, by bucket."""
    if not connection.features.can_distinct_on_fields:
        # SQLite (the demo): a small history, bucketed here; a later row of a
        # bucket overwrites an earlier one in _carry_forward, as DISTINCT ON picks.
        return [
            (k, window.index(t), v) for k, t, v in qs.order_by(at, "id").values_list(key, at, value)
        ]
    # Table and column come from the code above, never from a request; the
    # values are parameters. Qualified: the namespace's rows join bindings.
    quote = connection.ops.quote_name
    column = f"{quote(qs.model._meta.db_table)}.{quote(at)}"
    index = RawSQL(  # noqa: S611
        f"GREATEST(1, CEIL(DATE_PART('epoch', {column} - %s) / %s))::integer",
        (window.start, window.width.total_seconds()),
        output_field=IntegerField(),
    )
    rows = (
        qs.annotate(bucket=index)
        .order_by(key, "bucket", f"-{at}", "-id")
        .distinct(key, "bucket")
        .values_list(key, "bucket", value)
    )
    return sorted(rows, key=lambda row: row[1])


def _carry_forward(rows: Iterable[tuple], window: Window) -> list[TrendPoint]:
    """Carry each key's latest counts forward; rows are (key, bucket, counts)."""
    latest: dict[int, Mapping[str, int]] = {}
    rows = list(rows)
    points: list[TrendPoint] = []
    i = 0
    for b in range(1, window.buckets + 1):
        edge = window.start + window.width * b
        while i < len(rows) and rows[i][1] <= b:
            latest[rows[i][0]] = rows[i][2] or {}
            i += 1
        if not latest:
            points.append(TrendPoint(edge, None))
            continue
        total = {s.value: sum(int(c.get(s, 0)) for c in latest.values()) for s in SEVERITY}
        points.append(TrendPoint(edge, total))
    return points
