"""The dashboards' latest snapshots as value rows (health/latest.py, #19)
are the ones the windowed Prefetch of model instances gave: the newest
``HEALTH_PENDING_SWEEPS`` per binding, newest first, ties by id, only for the
page shown, in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Prefetch
from django.utils import timezone

from secrets_app.health import selectors
from secrets_app.health.latest import COLUMNS, latest_snapshots
from secrets_app.models import Binding, HealthSnapshot
from tests.factories import BindingFactory, ClusterFactory

pytestmark = pytest.mark.django_db


def _prefetched(ids, n):
    newest = HealthSnapshot.objects.order_by("-taken_at", "-id")[:n]
    rows = Binding.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("snapshots", queryset=newest, to_attr="latest")
    )
    return {
        b.pk: [tuple(getattr(s, c) for c in COLUMNS) for s in b.latest] for b in rows if b.latest
    }


@pytest.mark.parametrize("window", [1, 3])
def test_same_snapshots_as_the_prefetch(settings, window, django_assert_num_queries):
    settings.HEALTH_PENDING_SWEEPS = window
    cluster = ClusterFactory()
    now = timezone.now()
    bindings = [BindingFactory(cluster=cluster) for _ in range(4)]
    statuses = ["pending", "failing", "healthy", "pending", "degraded"]
    for i, b in enumerate(bindings[:3]):  # the last one was never swept
        for age, status in enumerate(statuses[i:]):
            HealthSnapshot.objects.create(
                binding=b,
                status=status,
                pods_expected=age + 2,
                pods_mounted=age,
                last_error=f"error {i}/{age}" if status == "failing" else "",
                details={"diagnosis": {"title": f"t{i}"}, "pods_waiting": age},
                taken_at=now - timedelta(minutes=age),
            )
    # Two snapshots of one sweep (same time): the later row is the newer.
    twin = HealthSnapshot.objects.create(binding=bindings[0], status="unknown", taken_at=now)
    ids = [b.pk for b in bindings]
    with django_assert_num_queries(1):
        ours = latest_snapshots(ids)
    expected = _prefetched(ids, window)
    assert {k: [tuple(getattr(s, c) for c in COLUMNS) for s in v] for k, v in ours.items()} == (
        expected
    )
    assert ours[twin.binding_id][0].status == "unknown"
    assert bindings[3].pk not in ours


def test_a_page_of_bindings_reads_its_snapshots_once(django_assert_num_queries):
    cluster = ClusterFactory()
    for i in range(5):
        b = BindingFactory(cluster=cluster, namespace=f"ns-{i % 2}", health_status="failing")
        HealthSnapshot.objects.create(
            binding=b, status="failing", last_error="boom", taken_at=timezone.now()
        )
    with django_assert_num_queries(2):  # the page's bindings, then their snapshots
        rows = list(selectors.bindings_with_latest(cluster)[:3])
    assert len(rows) == 3 and all(r.latest[0].last_error == "boom" for r in rows)
    with django_assert_num_queries(0):  # evaluated once, as a prefetch was
        assert [r.latest[0].status for r in rows] == ["failing"] * 3
    with django_assert_num_queries(1):  # nothing to attach: one query
        assert list(selectors.bindings_with_latest(cluster, "no-such-namespace")) == []
