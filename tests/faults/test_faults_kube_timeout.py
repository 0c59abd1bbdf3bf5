"""The Kubernetes API timing out during a health sweep: the sweep records
the timeout, the bindings become unknown (never failing) with their last
snapshot kept and shown as stale, the pages say what happened, and the next
sweep recovers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding, ClusterSweep, HealthSnapshot, TaskRun
from secrets_app.tasks.health import KIND, sweep_cluster_task
from tests.health_portal.health_support import load_cluster

pytestmark = pytest.mark.django_db

READ_TIMEOUT = 0.5


def latest_statuses() -> dict[int, str]:
    latest = {}
    for binding_id, status in HealthSnapshot.objects.order_by("taken_at", "id").values_list(
        "binding_id", "status"
    ):
        latest[binding_id] = status
    return latest


def test_a_kube_api_timeout_is_recorded_shown_and_recovered_from(
    fake, kube_cluster, web, broker, settings
):
    settings.HEALTH_KUBE_READ_TIMEOUT = READ_TIMEOUT
    _, bindings = load_cluster(fake, kube_cluster, pods=20, bindings=4, mix=["healthy"], seed=3)
    assert sweep_cluster(kube_cluster.pk).ok
    before = latest_statuses()
    assert set(before.values()) == {"healthy"}

    # Longer than the read timeout, for the first page and its one retry.
    fake.delay_next(2, seconds=READ_TIMEOUT * 6)
    fake.clear_requests()
    failed = sweep_cluster(kube_cluster.pk)
    assert failed.ok is False
    assert "Read timed out" in failed.error and fake.url in failed.error
    assert len(fake.requests) == 2  # bounded: one page, tried twice
    # Unknown, not failing; the last verdicts stay as they were.
    assert set(Binding.objects.values_list("health_status", flat=True)) == {"unknown"}
    assert latest_statuses() == before
    assert HealthSnapshot.objects.count() == len(before)

    for url in (
        reverse("health-overview"),
        reverse("health-cluster", args=[kube_cluster.name]),
    ):
        page = web.get(url).content.decode()
        assert "failed" in page and "Read timed out" in page, url
    binding_page = web.get(next(iter(bindings.values())).get_absolute_url()).content.decode()
    assert "stale" in binding_page and "could not read the cluster" in binding_page

    # The cluster answers in time again: the next (scheduled) sweep recovers.
    assert sweep_cluster_task.apply(args=(kube_cluster.pk,)).get() == "ok"
    assert set(Binding.objects.values_list("health_status", flat=True)) == {"healthy"}
    assert ClusterSweep.objects.filter(cluster=kube_cluster).order_by("-id").first().ok
    assert TaskRun.objects.filter(kind=KIND).get().outcome == "succeeded"


def test_a_timeout_in_the_task_is_retried_then_recovers(fake, kube_cluster, broker, settings):
    settings.HEALTH_KUBE_READ_TIMEOUT = READ_TIMEOUT
    load_cluster(fake, kube_cluster, pods=10, bindings=2, mix=["healthy"], seed=4)
    fake.delay_next(2, seconds=READ_TIMEOUT * 6)
    # apply() runs the retry in-process at once (no countdown wait).
    assert sweep_cluster_task.apply(args=(kube_cluster.pk,)).get() == "ok"
    runs = list(TaskRun.objects.filter(kind=KIND).order_by("id").values_list("outcome", "error"))
    assert [o for o, _ in runs] == ["retrying", "succeeded"]
    assert "Read timed out" in runs[0][1]
    assert [s.ok for s in ClusterSweep.objects.order_by("id")] == [False, True]
    assert set(Binding.objects.values_list("health_status", flat=True)) == {"healthy"}
