"""Record past sweeps, for a demo (or a bench) that wants a day of history
behind its dashboards without waiting a day.

A sample is what one sweep would have stored: a verdict per binding at a
time. Each becomes a ``ClusterSweep`` with the counts (the cluster and
overview trends read those) and a ``HealthSnapshot`` per binding (the
namespace trend and the "pending for N sweeps" reason read those), so all
trends tell the same story. The bindings' own columns are left alone: the
next real sweep (or the caller) sets what is current.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import transaction

from secrets_app.health.status import HealthStatus
from secrets_app.models import Binding, Cluster, ClusterSweep, HealthSnapshot


@transaction.atomic
def record_past_sweeps(
    cluster: Cluster, samples: Iterable[tuple[datetime, Mapping[Binding | int, str]]]
) -> int:
    """Store each (time, {binding or id: status}) as a successful sweep of
    ``cluster``; returns how many sweeps were stored (two bulk inserts)."""
    sweeps, snapshots = [], []
    for at, verdicts in samples:
        ids = {
            (b.pk if isinstance(b, Binding) else b): HealthStatus(s) for b, s in verdicts.items()
        }
        counts = Counter(s.value for s in ids.values())
        sweeps.append(
            ClusterSweep(
                cluster=cluster,
                started_at=at,
                finished_at=at,
                ok=True,
                counts={s.value: counts.get(s.value, 0) for s in HealthStatus},
            )
        )
        snapshots += [
            HealthSnapshot(binding_id=pk, status=status.value, taken_at=at, details={})
            for pk, status in ids.items()
        ]
    ClusterSweep.objects.bulk_create(sweeps)
    HealthSnapshot.objects.bulk_create(snapshots)
    return len(sweeps)
