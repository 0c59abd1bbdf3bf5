"""Import discovery task: a thin wrapper around ``secrets_app.bindings.adoption``.

One run per cluster at a time (a Redis lock: a second click on "Discover
now" is a recorded no-op), a ``TaskRun`` of kind "import" for every run so the
import page can show the last one and its error, and bounded retries when the
cluster cannot be reached.
"""

from __future__ import annotations

from celery import shared_task

from secrets_app.bindings.adoption import discover_cluster
from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.models import TaskRun
from secrets_app.tasks.runs import CLUSTER_MAX_RETRIES, cluster_run, retry_cluster_task

KIND = "import"
#: A discovery is three paginated lists: minutes at most, even on a large cluster.
LOCK_SECONDS = 15 * 60


def lock_name(cluster_id: int) -> str:
    return f"import-discovery:{cluster_id}"


@shared_task(
    bind=True, name="secrets_app.tasks.imports.discover_bindings", max_retries=CLUSTER_MAX_RETRIES
)
def discover_bindings(self, cluster_id: int) -> str:
    """Discover the bindings of one cluster and record them as candidates."""
    failure: RetryableError | None = None
    with cluster_run(
        self,
        kind=KIND,
        cluster_id=cluster_id,
        lock=lock_name(cluster_id),
        timeout=LOCK_SECONDS,
        busy="another discovery of this cluster is running",
    ) as run:
        if run is None:
            return "skipped"
        try:
            result = discover_cluster(cluster_id)
        except RetryableError as error:
            failure = error
        except PermanentError as error:
            run.finish(TaskRun.Outcome.FAILED, error=str(error))
            return "failed"
        except Exception as error:
            run.finish(TaskRun.Outcome.FAILED, error=f"{type(error).__name__}: {error}")
            raise
    # Outside the lock: an eager retry runs inside self.retry().
    if failure is not None:
        return retry_cluster_task(self, run, failure)
    if result is None:
        run.finish(TaskRun.Outcome.FAILED, error="cluster no longer exists")
        return "gone"
    discovery, counts = result
    detail = {
        "requests": discovery.requests,
        "seen": discovery.seen,
        "found": len(discovery.found),
        "counts": counts,
    }
    run.finish(TaskRun.Outcome.SUCCEEDED, **detail)
    return "ok"
