"""A binding pending for more than a few sweeps says which condition it
waits for, on its page and on the dashboards; one just rolling out does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from secrets_app.health.pending import pending_reason, pending_sweeps
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding, HealthSnapshot
from tests.factories import BindingFactory
from tests.health_portal.health_support import load_cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(fake, kube_cluster, settings):
    settings.HEALTH_PENDING_SWEEPS = 3
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=10, bindings=2, mix=["pending", "no_pods"], seed=4
    )
    creating, no_pods = (bindings[t.id] for t in generated.targets)
    return creating, no_pods


def _page(web, binding) -> str:
    return web.get(binding.get_absolute_url()).content.decode()


def test_two_sweeps_are_a_rollout_three_need_a_reason(web, kube_cluster, waiting):
    creating, no_pods = waiting
    for _ in range(2):
        sweep_cluster(kube_cluster.pk)
    assert Binding.objects.get(pk=creating.pk).health_status == "pending"
    assert "Waiting for" not in _page(web, creating)
    cluster_page = web.get(reverse("health-cluster", args=[kube_cluster.name])).content.decode()
    assert "pending-cell" not in cluster_page

    sweep_cluster(kube_cluster.pk)
    page = _page(web, creating)
    assert "Pending for the last 3 sweeps" in page
    assert "Waiting for the first mount:" in page and "ContainerCreating" in page
    assert f"Deployment {creating.namespace}/{creating.workload_name}" in page
    page = _page(web, no_pods)
    assert "Waiting for pods: no running pod of" in page
    assert escape(no_pods.secret_provider_class) in page

    # The dashboards say it under the status, from the same snapshots.
    cluster_page = web.get(reverse("health-cluster", args=[kube_cluster.name])).content.decode()
    assert cluster_page.count('class="muted pending-cell"') == 2
    assert "Waiting for pods: no running pod of" in cluster_page
    ns_page = web.get(reverse("health-namespace", args=[kube_cluster.name, creating.namespace]))
    assert b"Waiting for the first mount" in ns_page.content


def test_a_rollout_in_progress_names_what_is_left(db):
    binding = BindingFactory(workload_kind="StatefulSet", workload_name="db", namespace="shop")
    snap = HealthSnapshot(
        binding=binding, status="pending", pods_expected=3, pods_mounted=1, details={}
    )
    assert pending_reason(binding, snap) == (
        "Waiting for the rollout: 1 of 3 pods of StatefulSet shop/db mounted, "
        "2 pods still mounting."
    )


def test_only_the_latest_run_of_pending_counts():
    statuses = ["pending", "pending", "failing", "pending"]
    assert pending_sweeps([HealthSnapshot(status=s) for s in statuses]) == 2
    assert pending_sweeps([HealthSnapshot(status="healthy")]) == 0
    assert pending_sweeps([]) == 0


def test_the_binding_page_costs_the_same_with_more_history(web, settings):
    settings.HEALTH_PENDING_SWEEPS = 3
    binding = BindingFactory(health_status="pending")
    now = timezone.now()

    def snapshots(n: int) -> None:
        HealthSnapshot.objects.bulk_create(
            HealthSnapshot(binding=binding, status="pending", taken_at=now - timedelta(minutes=i))
            for i in range(n)
        )

    snapshots(1)
    with CaptureQueriesContext(connection) as few:
        assert web.get(binding.get_absolute_url()).status_code == 200
    snapshots(20)
    with CaptureQueriesContext(connection) as many:
        page = web.get(binding.get_absolute_url()).content.decode()
    assert "Pending for the last 3 sweeps" in page
    assert len(many.captured_queries) == len(few.captured_queries)
