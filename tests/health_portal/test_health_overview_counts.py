"""The overview's numbers (#19): counted per (cluster, status) at the
request and merged with the clusters in Python, they are the bindings as they
stand, not as the last sweep counted them, in a fixed two queries, worst
cluster first."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from secrets_app.health import selectors
from secrets_app.health.service import LIVE_STATES, sweep_cluster
from secrets_app.health.status import SEVERITY
from secrets_app.models import Binding, ClusterSweep
from tests.factories import BindingFactory, ClusterFactory
from tests.health_portal.health_support import load_cluster

pytestmark = pytest.mark.django_db


def _recount() -> dict[str, dict[str, int]]:
    """Cluster name -> n_<status>, n_total, n_stale: the bindings as they stand."""
    found: dict[str, Counter] = {}
    for b in Binding.objects.select_related("cluster"):
        counts = found.setdefault(b.cluster.name, Counter())
        if b.state not in LIVE_STATES:
            continue
        counts[f"n_{b.health_status}"] += 1
        counts["n_total"] += 1
        counts["n_stale"] += b.stale_since is not None
    return {name: {k: n for k, n in c.items() if n} for name, c in found.items()}


def _shown(clusters) -> dict[str, dict[str, int]]:
    keys = [f"n_{s}" for s in SEVERITY] + ["n_total", "n_stale"]
    return {c.name: {k: getattr(c, k) for k in keys if getattr(c, k)} for c in clusters}


def test_counts_order_and_queries(django_assert_num_queries):
    now = timezone.now()
    busy, calm, tied = (ClusterFactory(name=n) for n in ("busy", "calm", "a-tied"))
    retired = ClusterFactory(name="retired", active=False)  # no live binding: hidden
    leaving = ClusterFactory(name="leaving", active=False)  # live bindings: shown
    for status, n in (("failing", 2), ("degraded", 1), ("healthy", 3)):
        for _ in range(n):
            BindingFactory(cluster=busy, health_status=status)
    BindingFactory(cluster=busy, health_status="healthy", stale_since=now)
    BindingFactory(cluster=busy, health_status="failing", state="revoked")  # not counted
    BindingFactory(cluster=busy, health_status="pending", state="revoking")  # counted
    BindingFactory(cluster=calm, health_status="healthy")
    BindingFactory(cluster=tied, health_status="healthy")
    BindingFactory(cluster=leaving, health_status="unknown")
    BindingFactory(cluster=retired, health_status="failing", state="revoked")
    ClusterSweep.objects.create(cluster=calm, started_at=now, finished_at=now, ok=True)
    ClusterSweep.objects.create(cluster=busy, started_at=now, ok=False, error="timeout")

    with django_assert_num_queries(2):
        clusters = selectors.cluster_overview()

    expected = _recount()
    del expected["retired"]
    assert _shown(clusters) == expected
    assert clusters[0].n_failing == 2 and clusters[0].n_stale == 1 and clusters[0].n_total == 8
    # Worst first; equal counts in name order (the database's, as before).
    assert [c.name for c in clusters] == ["busy", "leaving", "a-tied", "calm"]
    busy_row, calm_row = clusters[0], clusters[-1]
    assert busy_row.status_counts == [busy_row.n_failing, 1, 0, 1, 4]
    assert (busy_row.last_sweep_ok, busy_row.last_sweep_error) == (False, "timeout")
    assert busy_row.last_ok_sweep_at is None and calm_row.last_ok_sweep_at == now
    assert clusters[1].last_sweep_at is None


def test_no_clusters_no_rows():
    assert selectors.cluster_overview() == []


def test_revoked_and_new_bindings_count_before_the_next_sweep(web, fake, kube_cluster):
    """Between two sweeps the overview follows the bindings, not the sweep's tally."""
    load_cluster(fake, kube_cluster, pods=6, bindings=4, mix=["healthy", "sa_missing"], seed=7)
    sweep_cluster(kube_cluster.pk)
    swept = ClusterSweep.objects.get(cluster=kube_cluster).counts

    def row():
        (found,) = [c for c in selectors.cluster_overview() if c.pk == kube_cluster.pk]
        return found

    assert _shown([row()]) == _recount()
    assert row().n_total == sum(swept.values()) == 4

    # Revoked after the sweep: gone from the numbers at once.
    gone = Binding.objects.filter(cluster=kube_cluster, health_status="failing").first()
    Binding.objects.filter(pk=gone.pk).update(state="revoked")
    # Made active after the sweep (its pull requests merged): counted at once.
    BindingFactory(cluster=kube_cluster, namespace="new-team", health_status="pending")

    after = row()
    assert after.n_total == 4
    assert after.n_failing == swept["failing"] - 1
    assert after.n_pending == swept["pending"] + 1
    assert _shown([after]) == _recount()
    # The page shows the same numbers: total, then the trend's "now" agrees.
    page = web.get(reverse("health-overview")).content.decode()
    counts = "".join(f"<td>{n}</td>" for n in after.status_counts)
    assert counts in page
    assert f"{after.n_pending} pending" in page


def _filtered_counts(cluster, namespace=None) -> list[dict]:
    """namespace_counts before #19: seven COUNT(...) FILTER per namespace."""
    live = Q(state__in=LIVE_STATES)
    counts = {f"n_{s}": Count("pk", filter=live & Q(health_status=s)) for s in SEVERITY}
    counts["n_total"] = Count("pk", filter=live)
    counts["n_stale"] = Count("pk", filter=live & Q(stale_since__isnull=False))
    rows = Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    if namespace is not None:
        rows = rows.filter(namespace=namespace)
    worst = [f"-n_{s}" for s in SEVERITY[:-1]]
    rows = rows.values("namespace").annotate(**counts).order_by(*worst, "namespace")
    return [{**row, "counts": [row[f"n_{s}"] for s in SEVERITY]} for row in rows]


def test_namespace_counts_are_the_filtered_counts(django_assert_num_queries):
    cluster = ClusterFactory(name="ns-counts")
    now = timezone.now()
    plan = {
        "b-team": ["failing", "healthy", "healthy"],
        "a-team": ["failing", "healthy", "pending"],  # ties b-team on failing: name order
        "z-ops": ["degraded", "degraded"],
        "c-data": ["healthy"],
        "gone": ["failing"],  # revoked below: no row
    }
    for namespace, statuses in plan.items():
        for i, status in enumerate(statuses):
            BindingFactory(
                cluster=cluster,
                namespace=namespace,
                health_status=status,
                stale_since=now if i == 0 else None,
                state="revoked" if namespace == "gone" else "active",
            )
    with django_assert_num_queries(1):
        ours = selectors.namespace_counts(cluster)
    assert ours == _filtered_counts(cluster)
    assert [r["namespace"] for r in ours] == ["a-team", "b-team", "z-ops", "c-data"]
    assert selectors.namespace_counts(cluster, "z-ops") == _filtered_counts(cluster, "z-ops")
    assert selectors.namespace_counts(cluster, "nowhere") == []
