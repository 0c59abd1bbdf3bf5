"""Celery tasks that open and follow the pull requests. Thin: each takes an
id, records its run, calls a service, and retries what can be retried."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from secrets_app.integrations.backends import retry_policy
from secrets_app.integrations.errors import IntegrationError, RetryableError
from secrets_app.models import AccessRequest, RequestState, TaskRun
from secrets_app.requests import provisioning, workflow
from secrets_app.tasks.locks import exclusive

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def open_pull_requests(self, request_id: int) -> str:
    run = TaskRun.objects.create(
        kind="open_prs",
        request_id=request_id,
        task_id=self.request.id or "",
        attempt=self.request.retries + 1,
    )
    with exclusive(f"open-prs:{request_id}", timeout=600) as mine:
        if not mine:
            run.finish(TaskRun.Outcome.SUCCEEDED, skipped="another run holds the request")
            return "skipped"
        try:
            refs = provisioning.open_pull_requests(request_id)
        except RetryableError as error:
            policy = retry_policy()
            attempt = self.request.retries + 1
            if policy.should_retry(attempt, error):
                countdown = policy.delay(attempt, error)
                run.finish(TaskRun.Outcome.RETRYING, error=str(error), retry_in=countdown)
                raise self.retry(exc=error, countdown=countdown) from None
            run.finish(TaskRun.Outcome.FAILED, error=str(error))
            workflow.request_fail(request_id=request_id, reason=f"Gave up after retries: {error}")
            return "failed"
        except IntegrationError as error:
            run.finish(TaskRun.Outcome.FAILED, error=str(error))
            workflow.request_fail(request_id=request_id, reason=str(error))
            return "failed"
    if refs is None:
        run.finish(TaskRun.Outcome.SUCCEEDED, skipped="request not waiting for pull requests")
        return "nothing to do"
    run.finish(
        TaskRun.Outcome.SUCCEEDED,
        pulls={repo: {"number": r.number, "url": r.url} for repo, r in refs.items()},
    )
    return "opened"


def enqueue_open_pull_requests(request_id: int) -> None:
    try:
        open_pull_requests.delay(request_id)
    except Exception as error:  # the broker's errors vary by transport
        # The approval has committed; the sweeper enqueues it once the
        # broker is back (requeue_stuck_requests).
        log.warning("could not enqueue the pull requests of request %s: %s", request_id, error)


@shared_task
def requeue_stuck_requests() -> int:
    """Approved (or provisioning) requests whose task never ran or died
    without a trace (Redis down at approval time, a lost message) are enqueued
    again. Re-running is harmless: the task is idempotent."""
    cutoff = timezone.now() - datetime.timedelta(minutes=settings.PORTAL_STUCK_MINUTES)
    candidates = AccessRequest.objects.filter(
        state__in=[RequestState.APPROVED, RequestState.PROVISIONING], updated_at__lt=cutoff
    ).exclude(task_runs__kind="open_prs", task_runs__started_at__gte=cutoff)
    ids = list(candidates.values_list("pk", flat=True).distinct())
    for request_id in ids:
        open_pull_requests.delay(request_id)
    return len(ids)


@shared_task(bind=True, max_retries=3)
def poll_pull_requests(self) -> int:
    """The fallback for missed webhooks: read the state of every open pull
    request of requests waiting for merges."""
    changed = 0
    waiting = AccessRequest.objects.filter(
        state__in=[RequestState.PROVISIONING, RequestState.NEEDS_ATTENTION]
    ).select_related("cluster")
    for request in waiting:
        try:
            changed += len(provisioning.refresh_pull_requests(request))
        except IntegrationError as error:
            # One unreachable repository must not stop the others.
            log.warning("poll of request %s failed: %s", request.pk, error)
    return changed
