"""The database connection dropped during a health sweep: a real worker
(thread) sweeps while the fake Kubernetes API holds a page; meanwhile its
PostgreSQL backend is terminated (``pg_terminate_backend``). The sweep must
fail visibly (task run and failed sweep with the error, shown on the
dashboards), write no half of its snapshots, and the next sweep must
succeed on a fresh connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from secrets_app.models import ClusterSweep, HealthSnapshot, TaskRun
from secrets_app.tasks.health import KIND, sweep_cluster_task
from tests.health_portal.health_support import load_cluster
from tests.support.celery_worker import running_worker
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def finished_runs() -> list[TaskRun]:
    return list(TaskRun.objects.filter(kind=KIND).exclude(outcome="running").order_by("id"))


def terminate_other_backends() -> int:
    """Drop every connection to the test database but this thread's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_dropped_database_connection_fails_the_sweep_visibly_then_it_recovers(
    fake, kube_cluster, web, broker
):
    _, bindings = load_cluster(fake, kube_cluster, pods=20, bindings=4, mix=["healthy"], seed=5)
    with running_worker(purge=False):  # the broker fixture emptied the queue
        sweep_cluster_task.delay(kube_cluster.pk)
        wait_for(lambda: len(finished_runs()) == 1, what="the first sweep")
        assert finished_runs()[0].outcome == "succeeded"
        snapshots = HealthSnapshot.objects.count()
        assert snapshots == 4

        fake.clear_requests()
        # The first page hangs: the worker waits on it while its connection is
        # cut. Long enough that a test process starved on a busy machine still
        # cuts it before the sweep stores anything (the sweep's last write,
        # the namespaces, comes after its verdicts).
        fake.delay_next(1, seconds=6.0)
        sweep_cluster_task.delay(kube_cluster.pk)
        wait_for(lambda: fake.requests, what="the second sweep's first request")
        assert terminate_other_backends() >= 1  # the worker's connection
        wait_for(lambda: len(finished_runs()) == 2, what="the second sweep to end")
        run = finished_runs()[1]
        assert run.outcome == "failed", (run.outcome, run.error)
        assert "connection" in run.error.lower()
        failed = ClusterSweep.objects.filter(cluster=kube_cluster).order_by("-id").first()
        assert failed.ok is False and "connection" in failed.error.lower()
        assert HealthSnapshot.objects.count() == snapshots  # nothing half-written

        pages = (reverse("health-overview"), reverse("health-cluster", args=[kube_cluster.name]))
        for url in pages:
            page = web.get(url).content.decode()
            assert "failed" in page and "OperationalError" in page, url
        binding_page = web.get(next(iter(bindings.values())).get_absolute_url())
        assert binding_page.status_code == 200 and b"stale" in binding_page.content

        sweep_cluster_task.delay(kube_cluster.pk)
        wait_for(lambda: len(finished_runs()) == 3, what="the third sweep")
    assert finished_runs()[2].outcome == "succeeded"
    assert ClusterSweep.objects.filter(cluster=kube_cluster).order_by("-id").first().ok
    assert HealthSnapshot.objects.count() == 2 * snapshots
