"""TaskRun bookkeeping shared by the tasks: how a run that found another
holding its lock is recorded, and the bounded, doubling backoff of the
cluster tasks (health sweeps, import discovery)."""

from __future__ import annotations

from django.utils import timezone

from secrets_app.models import TaskRun

#: Cluster tasks retry a few times, doubling from 10 s; retries must land well
#: inside the next periodic run, which would redo the work anyway.
CLUSTER_MAX_RETRIES = 3
CLUSTER_RETRY_BASE_SECONDS = 10
CLUSTER_RETRY_CAP_SECONDS = 120


def record_skipped(task, *, kind: str, why: str, **owner) -> None:
    """A run that found its lock held: nothing done, and the page says why."""
    TaskRun.objects.create(
        kind=kind,
        task_id=task.request.id or "",
        attempt=task.request.retries + 1,
        outcome=TaskRun.Outcome.SUCCEEDED,
        detail={"skipped": why},
        finished_at=timezone.now(),
        **owner,
    )


def retry_cluster_task(task, run: TaskRun, failure: Exception) -> str:
    """Record a retryable failure and retry (raises), or give up after
    CLUSTER_MAX_RETRIES and return "failed"."""
    attempt = task.request.retries + 1
    retry = attempt <= CLUSTER_MAX_RETRIES
    run.finish(TaskRun.Outcome.RETRYING if retry else TaskRun.Outcome.FAILED, error=str(failure))
    if not retry:
        return "failed"
    countdown = min(CLUSTER_RETRY_CAP_SECONDS, CLUSTER_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    raise task.retry(exc=failure, countdown=countdown)
