"""Celery tasks that open and follow the pull requests. Thin: each takes an
id, records its run, calls a service, and retries what can be retried."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from secrets_app.fleet.tracking import refresh_upgrades
from secrets_app.integrations.backends import retry_policy
from secrets_app.integrations.errors import IntegrationError, RetryableError
from secrets_app.models import AccessRequest, RequestState, TaskRun, WebhookDelivery
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
    retry: RetryableError | None = None
    with exclusive(f"open-prs:{request_id}", timeout=600) as mine:
        if not mine:
            run.finish(TaskRun.Outcome.SUCCEEDED, skipped="another run holds the request")
            return "skipped"
        try:
            refs = provisioning.open_pull_requests(request_id)
        except RetryableError as error:
            retry = error
        except (OperationalError, InterfaceError) as error:
            # The database went away: as transient as a GitHub 502.
            retry = RetryableError(f"database: {error}", system="portal")
        except IntegrationError as error:
            return _fail(run, request_id, str(error))
        except Exception as error:
            # A bug, not an outage: the run must not stay "running" (and the
            # request be re-queued forever); a person retries after a fix.
            log.exception("open_pull_requests(%s) failed", request_id)
            return _fail(run, request_id, f"unexpected error: {type(error).__name__}: {error}")
    if retry is not None:
        # Outside the lock: an eager retry runs inside ``self.retry()``.
        policy = retry_policy()
        attempt = self.request.retries + 1
        if not policy.should_retry(attempt, retry):
            # An outage longer than the retries is still an outage: the
            # request stays provisioning and the requeue job runs it again
            # (PORTAL_STUCK_MINUTES), instead of failing it for a person.
            run.finish(TaskRun.Outcome.FAILED, error=f"{retry} (the requeue job tries again later)")
            return "retry later"
        countdown = policy.delay(attempt, retry)
        run.finish(TaskRun.Outcome.RETRYING, error=str(retry), retry_in=countdown)
        raise self.retry(exc=retry, countdown=countdown)
    if refs is None:
        run.finish(TaskRun.Outcome.SUCCEEDED, skipped="request not waiting for pull requests")
        return "nothing to do"
    run.finish(
        TaskRun.Outcome.SUCCEEDED,
        pulls={repo: {"number": r.number, "url": r.url} for repo, r in refs.items()},
    )
    return "opened"


def _fail(run: TaskRun, request_id: int, reason: str) -> str:
    run.finish(TaskRun.Outcome.FAILED, error=reason)
    workflow.request_fail(request_id=request_id, reason=reason)
    return "failed"


def enqueue_open_pull_requests(request_id: int) -> None:
    try:
        open_pull_requests.delay(request_id)
    except Exception as error:  # the broker's errors vary by transport
        # The approval has committed; the sweeper enqueues it once the
        # broker is back (requeue_stuck_requests).
        log.warning("could not enqueue the pull requests of request %s: %s", request_id, error)


@shared_task
def requeue_stuck_requests() -> int:
    """Requests whose pull-request task never ran or died without finishing
    (Redis down at approval time, a lost message, a killed worker) are
    enqueued again. A request whose task finished (``prs_opened_at``) waits
    for people, however long: it is never re-run from here."""
    cutoff = timezone.now() - datetime.timedelta(minutes=settings.PORTAL_STUCK_MINUTES)
    unfinished = Q(state=RequestState.APPROVED) | Q(
        state=RequestState.PROVISIONING, prs_opened_at__isnull=True
    )
    latest = TaskRun.objects.filter(request=OuterRef("pk"), kind="open_prs").order_by(
        "-started_at", "-id"
    )
    lost = timezone.now() - TaskRun.LOST_AFTER
    candidates = (
        AccessRequest.objects.filter(unfinished, updated_at__lt=cutoff)
        .annotate(
            last_started=Subquery(latest.values("started_at")[:1]),
            last_outcome=Subquery(latest.values("outcome")[:1]),
        )
        # No run lately, and the last one is not still going (or waiting to
        # retry) unless it has been at it so long that its worker was lost.
        .filter(Q(last_started__isnull=True) | Q(last_started__lt=cutoff))
        .filter(
            Q(last_outcome__isnull=True)
            | ~Q(last_outcome__in=[TaskRun.Outcome.RUNNING, TaskRun.Outcome.RETRYING])
            | Q(last_started__lt=lost)
        )
    )
    ids = list(candidates.values_list("pk", flat=True))
    for request_id in ids:
        enqueue_open_pull_requests(request_id)
    return len(ids)


@shared_task(bind=True, max_retries=3)
def poll_pull_requests(self) -> int:
    """The fallback for missed webhooks: read the state of every pull request
    that can still change, of requests waiting for merges, and of fleet
    upgrades (``fleet.tracking``). One request that
    fails (its repository unreachable, or a bug) is recorded on its page and
    skipped: it must not stop the poll for everyone."""
    changed = 0
    waiting = (
        AccessRequest.objects.filter(
            state__in=[RequestState.PROVISIONING, RequestState.NEEDS_ATTENTION],
            pull_requests__isnull=False,
        )
        .select_related("cluster")
        .distinct()
    )
    for request in waiting:
        try:
            changed += len(provisioning.refresh_pull_requests(request))
        except Exception as error:
            if not isinstance(error, IntegrationError):
                log.exception("poll of request %s failed", request.pk)
            else:
                log.warning("poll of request %s failed: %s", request.pk, error)
            TaskRun.objects.create(
                kind="poll_prs",
                request=request,
                task_id=self.request.id or "",
                outcome=TaskRun.Outcome.FAILED,
                error=f"{type(error).__name__}: {error}"[:4000],
                finished_at=timezone.now(),
            )
    # Fleet upgrades' pull requests (each failure logged and skipped there).
    changed += refresh_upgrades()
    return changed


@shared_task
def prune_webhook_deliveries() -> int:
    """Forget delivery ids older than GitHub redelivers for."""
    cutoff = timezone.now() - datetime.timedelta(days=WebhookDelivery.KEPT_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted
