"""Health tasks: the per-cluster lock, retries, fan-out, pruning, and a real worker."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from secrets_app.models import Binding, BindingState, ClusterSweep, HealthSnapshot, TaskRun
from secrets_app.tasks.health import (
    KIND,
    prune_health_snapshots,
    sweep_all_clusters,
    sweep_cluster_task,
    sweep_lock,
)
from tests.factories import ClusterFactory
from tests.health_portal.health_support import load_cluster
from tests.support.celery_worker import running_worker
from tests.support.waiting import eventually


@pytest.mark.django_db(transaction=True)
def test_a_second_concurrent_sweep_of_a_cluster_is_skipped(fake, kube_cluster, broker):
    load_cluster(fake, kube_cluster, pods=30, bindings=5, seed=8)
    fake.delay_next(1, seconds=1.5)  # the first sweep's first LIST hangs a while
    results: dict[str, str] = {}

    def first() -> None:
        try:
            results["first"] = sweep_cluster_task(kube_cluster.pk)
        finally:
            connections.close_all()  # the thread's own database connection

    thread = threading.Thread(target=first)
    thread.start()
    assert eventually(lambda: sweep_lock(kube_cluster.pk).locked(), timeout=5)
    second = sweep_cluster_task(kube_cluster.pk)
    thread.join(timeout=30)
    assert (results["first"], second) == ("ok", "skipped")
    assert ClusterSweep.objects.filter(cluster=kube_cluster).count() == 1
    runs = TaskRun.objects.filter(kind=KIND, cluster=kube_cluster).order_by("id")
    assert [r.outcome for r in runs] == ["succeeded", "succeeded"]
    assert sorted(bool(r.detail.get("skipped")) for r in runs) == [False, True]
    assert not sweep_lock(kube_cluster.pk).locked()  # released once done
    # And a sweep after the first one finished runs normally.
    assert sweep_cluster_task(kube_cluster.pk) == "ok"


@pytest.mark.django_db
def test_an_unreachable_cluster_is_retried_a_bounded_number_of_times(fake, kube_cluster, broker):
    load_cluster(fake, kube_cluster, pods=10, bindings=2, seed=9)
    fake.down()
    # apply() runs retries in-process, one after the other (no countdown wait).
    result = sweep_cluster_task.apply(args=(kube_cluster.pk,))
    assert result.get() == "failed"
    outcomes = list(
        TaskRun.objects.filter(kind=KIND).order_by("id").values_list("attempt", "outcome")
    )
    assert outcomes == [(1, "retrying"), (2, "retrying"), (3, "retrying"), (4, "failed")]
    assert ClusterSweep.objects.filter(ok=False).count() == 4
    assert set(Binding.objects.values_list("health_status", flat=True)) == {"unknown"}
    assert not sweep_lock(kube_cluster.pk).locked()


@pytest.mark.django_db
def test_sweep_all_clusters_enqueues_one_per_active_cluster_with_bindings(
    fake, kube_cluster, broker
):
    load_cluster(fake, kube_cluster, pods=10, bindings=3, seed=1)
    idle = ClusterFactory(name="idle")  # no bindings: nothing to sweep
    retired = ClusterFactory(name="retired", active=False, kube_api_url=fake.url)
    load_cluster(fake, retired, pods=0, bindings=1, seed=2)
    gone = ClusterFactory(name="gone")
    _, bindings = load_cluster(fake, gone, pods=0, bindings=1, seed=3)
    Binding.objects.filter(cluster=gone).update(state=BindingState.REVOKED)
    assert idle.pk and bindings
    assert sweep_all_clusters() == 1
    queued = [json.loads(m)["headers"] for m in broker.lrange("celery", 0, -1)]
    assert [(h["task"], h["argsrepr"], bool(h["expires"])) for h in queued] == [
        ("secrets_app.tasks.health.sweep_cluster_task", f"({kube_cluster.pk},)", True)
    ]


@pytest.mark.django_db
def test_pruning_drops_old_history_but_keeps_each_bindings_latest(fake, kube_cluster, settings):
    settings.HEALTH_RETENTION_DAYS = 14
    _, bindings = load_cluster(fake, kube_cluster, pods=0, bindings=2, seed=4)
    quiet, busy = bindings.values()
    now = timezone.now()
    old, recent = now - timedelta(days=20), now - timedelta(days=1)

    def snap(binding, when):
        return HealthSnapshot.objects.create(binding=binding, status="healthy", taken_at=when)

    quiet_latest = snap(quiet, old)  # the cluster went away long ago: keep its last word
    snap(quiet, old - timedelta(hours=1))
    snap(busy, old)
    busy_latest = snap(busy, recent)
    ClusterSweep.objects.create(cluster=kube_cluster, started_at=old, ok=True)
    kept_sweep = ClusterSweep.objects.create(cluster=kube_cluster, started_at=recent, ok=True)
    old_run = TaskRun.objects.create(kind=KIND, cluster=kube_cluster)
    TaskRun.objects.filter(pk=old_run.pk).update(started_at=old)
    other_run = TaskRun.objects.create(kind="provision")
    TaskRun.objects.filter(pk=other_run.pk).update(started_at=old)

    assert prune_health_snapshots() == {"snapshots": 2, "sweeps": 1, "task_runs": 1}
    assert set(HealthSnapshot.objects.all()) == {quiet_latest, busy_latest}
    assert list(ClusterSweep.objects.all()) == [kept_sweep]
    assert TaskRun.objects.filter(pk=other_run.pk).exists()  # not ours to prune


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep(fake, kube_cluster, broker):
    generated, bindings = load_cluster(fake, kube_cluster, pods=40, bindings=8, seed=10)
    broker.delete("celery")  # nothing left over from another test
    with running_worker(purge=False):
        sweep_cluster_task.delay(kube_cluster.pk)
        done = eventually(
            lambda: TaskRun.objects.filter(cluster=kube_cluster, outcome="succeeded").exists(),
            timeout=20,
        )
    assert done, list(TaskRun.objects.values("outcome", "error"))
    run = TaskRun.objects.get(cluster=kube_cluster)
    assert run.task_id and run.finished_at
    sweep = ClusterSweep.objects.get(cluster=kube_cluster)
    assert sweep.ok and run.detail["sweep"] == sweep.pk
    stored = dict(Binding.objects.values_list("pk", "health_status"))
    assert stored == {bindings[t].pk: e.status for t, e in generated.expected.items()}
    assert HealthSnapshot.objects.count() == 8
