"""Mount health tasks: thin wrappers around ``secrets_app.health.service``."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from redis.lock import Lock

from secrets_app.health import service
from secrets_app.integrations.errors import RetryableError
from secrets_app.models import Cluster, TaskRun
from secrets_app.tasks.locks import redis_lock
from secrets_app.tasks.removal import enqueue_removal_checks
from secrets_app.tasks.runs import CLUSTER_MAX_RETRIES, cluster_run, retry_cluster_task

KIND = "health_sweep"


def lock_seconds() -> int:
    """How long a sweep may hold its cluster's lock: a sweep is bounded by its
    interval (the next one would start anyway), plus a margin for the writes."""
    return settings.HEALTH_SWEEP_MINUTES * 60 + 60


def lock_name(cluster_id: int) -> str:
    return f"health-sweep:{cluster_id}"


def sweep_lock(cluster_id: int) -> Lock:
    """The lock that keeps two sweeps of one cluster from overlapping (to look at)."""
    return redis_lock(lock_name(cluster_id), timeout=lock_seconds())


@shared_task(
    bind=True, name="secrets_app.tasks.health.sweep_cluster_task", max_retries=CLUSTER_MAX_RETRIES
)
def sweep_cluster_task(self, cluster_id: int) -> str:
    """Sweep one cluster unless a sweep of it is already running ("skipped")."""
    failure: RetryableError | None = None
    with cluster_run(
        self,
        kind=KIND,
        cluster_id=cluster_id,
        lock=lock_name(cluster_id),
        timeout=lock_seconds(),
        busy="another sweep of this cluster is running",
    ) as run:
        if run is None:
            return "skipped"
        try:
            sweep = service.sweep_cluster(cluster_id, raise_retryable=True)
        except RetryableError as error:
            failure = error
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            # A dropped database connection breaks the sweep's writes; close it so
            # the record of the failure goes out on a fresh one (not inside a
            # caller's transaction: closing would break that).
            if not connection.in_atomic_block:
                close_old_connections()
            run.finish(TaskRun.Outcome.FAILED, error=message)
            # On the dashboards too: otherwise they keep showing the last good sweep.
            _record_failure(cluster_id, run, message)
            raise
    # Outside the lock: an eager retry runs inside self.retry().
    if failure is not None:
        return retry_cluster_task(self, run, failure)
    if sweep is None:
        run.finish(TaskRun.Outcome.FAILED, error="cluster no longer exists")
        return "gone"
    outcome = TaskRun.Outcome.SUCCEEDED if sweep.ok else TaskRun.Outcome.FAILED
    run.finish(outcome, error=sweep.error, sweep=sweep.pk, counts=sweep.counts)
    if not sweep.ok:
        return "failed"
    # Revocations merged in this cluster: the AWS half of their confirmation.
    enqueue_removal_checks(cluster_id)
    return "ok"


@shared_task(name="secrets_app.tasks.health.sweep_all_clusters")
def sweep_all_clusters() -> int:
    """Enqueue one sweep per active cluster that has live bindings."""
    ids = (
        Cluster.objects.filter(active=True, bindings__state__in=service.LIVE_STATES)
        .values_list("pk", flat=True)
        .distinct()
    )
    count = 0
    for cluster_id in ids:
        # A queued sweep older than one interval is superseded by the next round.
        sweep_cluster_task.apply_async((cluster_id,), expires=settings.HEALTH_SWEEP_MINUTES * 60)
        count += 1
    return count


@shared_task(name="secrets_app.tasks.health.prune_health_snapshots")
def prune_health_snapshots() -> dict[str, int]:
    """Delete health history older than HEALTH_RETENTION_DAYS.

    Each binding's latest snapshot is kept however old: it is what the binding
    page shows (as stale) for a cluster that has been unreachable for long.
    """
    cutoff = timezone.now() - timedelta(days=settings.HEALTH_RETENTION_DAYS)
    return service.prune_history(cutoff, task_kind=KIND)


def _record_failure(cluster_id: int, run: TaskRun, error: str) -> None:
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is not None:
        service.record_failed_sweep(cluster, run.started_at, error)
