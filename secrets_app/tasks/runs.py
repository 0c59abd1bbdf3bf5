"""TaskRun bookkeeping shared by the tasks: how a run that found another
holding its lock is recorded, the lock and run of a cluster task, and the
bounded, doubling backoff of the cluster tasks (health sweeps, import
discovery)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from secrets_app.models import TaskRun
from secrets_app.tasks.locks import exclusive

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


@contextmanager
def ending(run: TaskRun) -> Iterator[TaskRun]:
    """Whatever escapes the block ends ``run`` as failed, then propagates: a
    bug must not leave a run "running" (and its work re-queued forever)."""
    try:
        yield run
    except BaseException as error:
        if run.outcome == TaskRun.Outcome.RUNNING:
            run.finish(
                TaskRun.Outcome.FAILED,
                error=f"unexpected error: {type(error).__name__}: {error}",
            )
        raise


@contextmanager
def cluster_run(
    task, *, kind: str, cluster_id: int, lock: str, timeout: float, busy: str
) -> Iterator[TaskRun | None]:
    """Hold the cluster task's ``lock`` and yield its new TaskRun; or yield
    None, recorded as skipped because ``busy``, when another run holds it.
    Retry after the block: an eager retry runs inside ``task.retry()``."""
    with exclusive(lock, timeout=timeout) as mine:
        if not mine:
            record_skipped(task, kind=kind, cluster_id=cluster_id, why=busy)
            yield None
            return
        run = TaskRun.objects.create(
            kind=kind,
            cluster_id=cluster_id,
            task_id=task.request.id or "",
            attempt=task.request.retries + 1,
        )
        with ending(run):
            yield run


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
