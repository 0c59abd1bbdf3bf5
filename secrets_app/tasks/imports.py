"""Import discovery task: a thin wrapper around ``secrets_app.inventory.adoption``.

One run per cluster at a time (a Redis lock: a second click on "Discover
now" is a recorded no-op), a ``TaskRun`` of kind "import" for every run so the
import page can show the last one and its error, and bounded retries when the
cluster cannot be reached.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.inventory.adoption import discover_cluster
from secrets_app.locks import exclusive
from secrets_app.models import TaskRun

KIND = "import"
MAX_RETRIES = 3
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 120
#: A discovery is three paginated lists: minutes at most, even on a large cluster.
LOCK_SECONDS = 15 * 60


def lock_name(cluster_id: int) -> str:
    return f"import-discovery:{cluster_id}"


@shared_task(bind=True, name="secrets_app.tasks.imports.discover_bindings", max_retries=MAX_RETRIES)
def discover_bindings(self, cluster_id: int) -> str:
    """Discover the bindings of one cluster and record them as candidates."""
    attempt = self.request.retries + 1
    task_id = self.request.id or ""
    failure: RetryableError | None = None
    with exclusive(lock_name(cluster_id), timeout=LOCK_SECONDS) as mine:
        if not mine:
            TaskRun.objects.create(
                kind=KIND,
                cluster_id=cluster_id,
                task_id=task_id,
                attempt=attempt,
                outcome=TaskRun.Outcome.SUCCEEDED,
                detail={"skipped": "another discovery of this cluster is running"},
                finished_at=timezone.now(),
            )
            return "skipped"
        run = TaskRun.objects.create(
            kind=KIND, cluster_id=cluster_id, task_id=task_id, attempt=attempt
        )
        try:
            result = discover_cluster(cluster_id)
        except RetryableError as error:
            failure = error
        except PermanentError as error:
            _finish(run, TaskRun.Outcome.FAILED, str(error))
            return "failed"
        except Exception as error:
            _finish(run, TaskRun.Outcome.FAILED, f"{type(error).__name__}: {error}")
            raise
    # Outside the lock: an eager retry runs inside self.retry().
    if failure is not None:
        retry = attempt <= MAX_RETRIES
        _finish(run, TaskRun.Outcome.RETRYING if retry else TaskRun.Outcome.FAILED, str(failure))
        if not retry:
            return "failed"
        countdown = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempt - 1))
        raise self.retry(exc=failure, countdown=countdown)
    if result is None:
        _finish(run, TaskRun.Outcome.FAILED, "cluster no longer exists")
        return "gone"
    discovery, counts = result
    detail = {
        "requests": discovery.requests,
        "seen": discovery.seen,
        "found": len(discovery.found),
        "counts": counts,
    }
    _finish(run, TaskRun.Outcome.SUCCEEDED, "", detail)
    return "ok"


def _finish(run: TaskRun, outcome: str, error: str = "", detail: dict | None = None) -> None:
    run.outcome = outcome
    run.error = error[:4000]
    run.detail = detail or {}
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "error", "detail", "finished_at"])
