"""A day of health history for the demo: hourly sweeps and snapshots before
the first real sweep, so that the 24-hour trend and a binding's history
have something to draw when the demo starts.

The history agrees with the present: each binding that is not healthy now
became so at an hour of the story (``onset_hours``) and was healthy before;
healthy ones were healthy all day. Snapshots repeat the latest real one
(the first sweep's verdict) from the onset on. Rows are written as sweeps
write them (``ClusterSweep`` per cluster, ``HealthSnapshot`` per binding),
and a failing binding's ``failing_since`` is set to its onset, so "failing
for 9 hours" matches the chart.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from secrets_app.models import Binding, Cluster, ClusterSweep, HealthSnapshot, HealthStatus

HOURS = 24
#: Sweeps this recent are the demo's own first ones; older ones mean history.
FRESH = timedelta(minutes=30)
#: When each troubled binding's trouble began (hours ago), in turn by id:
#: the trend steps up through the day instead of jumping once.
ONSETS = (2, 5, 9, 14, 19)
HEALTHY_DETAILS = {
    "failing_pods": [],
    "failing_pods_total": 0,
    "pods_waiting": False,
    "findings": [],
    "diagnosis": None,
}


def onset_hours(binding: Binding) -> int | None:
    """Hours since a binding that is not healthy became so (None: healthy)."""
    if binding.health_status == HealthStatus.HEALTHY:
        return None
    return ONSETS[binding.pk % len(ONSETS)]


@transaction.atomic
def seed_sweep_history(*, hours: int = HOURS, now: datetime | None = None) -> int:
    """Hourly sweeps (and snapshots) of every cluster just swept, for the
    ``hours`` before its first sweep. A cluster with sweeps older than that
    (a demo started again with --keep) already has its history: it is left
    as it is. Returns the sweeps written."""
    now = now or timezone.now()
    fresh = now - FRESH
    written = 0
    for cluster in Cluster.objects.filter(active=True).order_by("pk"):
        sweeps = ClusterSweep.objects.filter(cluster=cluster)
        first = sweeps.filter(ok=True, started_at__gte=fresh).order_by("started_at").first()
        if first is None or sweeps.filter(started_at__lt=fresh).exists():
            continue
        written += _seed_cluster(cluster, first.started_at, hours)
    return written


def _seed_cluster(cluster: Cluster, first: datetime, hours: int) -> int:
    bindings = list(Binding.objects.filter(cluster=cluster, health_checked_at__isnull=False))
    latest = {
        s.binding_id: s
        for s in HealthSnapshot.objects.filter(binding__in=bindings).order_by("taken_at", "pk")
    }
    sweeps, snapshots = [], []
    for hour in range(hours - 1, 0, -1):
        at = first - timedelta(hours=hour)
        counts: Counter[str] = Counter()
        for binding in bindings:
            onset = onset_hours(binding)
            status = binding.health_status if onset is not None and hour <= onset else "healthy"
            counts[status] += 1
            if binding.pk in latest:
                snapshots.append(_snapshot(latest[binding.pk], status, at))
        sweeps.append(
            ClusterSweep(
                cluster=cluster,
                started_at=at,
                finished_at=at + timedelta(seconds=2),
                ok=True,
                requests=12,
                pods=sum(s.pods_expected for s in latest.values()),
                counts={s.value: counts.get(s.value, 0) for s in HealthStatus},
            )
        )
    ClusterSweep.objects.bulk_create(sweeps)
    HealthSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    failing = [b for b in bindings if b.health_status == HealthStatus.FAILING]
    for binding in failing:
        binding.failing_since = first - timedelta(hours=onset_hours(binding))
    Binding.objects.bulk_update(failing, ["failing_since"])
    return len(sweeps)


def _snapshot(latest: HealthSnapshot, status: str, at: datetime) -> HealthSnapshot:
    if status == latest.status:
        return HealthSnapshot(
            binding_id=latest.binding_id,
            status=status,
            pods_expected=latest.pods_expected,
            pods_mounted=latest.pods_mounted,
            last_error=latest.last_error,
            diagnosis_code=latest.diagnosis_code,
            details=latest.details,
            taken_at=at,
        )
    return HealthSnapshot(
        binding_id=latest.binding_id,
        status=status,
        pods_expected=latest.pods_expected,
        pods_mounted=latest.pods_expected,
        details={**(latest.details or {}), **HEALTHY_DETAILS},
        taken_at=at,
    )
