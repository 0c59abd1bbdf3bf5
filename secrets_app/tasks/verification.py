"""Post-merge verification as a Celery task. Thin: takes a binding id,
records its run, calls the service, retries what AWS may answer later.

Every way of asking (the binding page's button, the API, the follow-up of a
new binding) goes through ``enqueue_verification``: one queued run per
binding at a time (``locks.claim_queued``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from secrets_app.aws_portal import verify_binding_now, verify_run_finish, verify_run_start
from secrets_app.bindings.drift_store import binding_refresh_aws_drift
from secrets_app.integrations.errors import RetryableError
from secrets_app.integrations.repos import RetryPolicy
from secrets_app.models import Binding, TaskRun
from secrets_app.tasks.locks import Queued, release_queued, send_once

#: How long a queued verification holds its claim at most: a message lost
#: from the queue blocks asking again for no longer than this.
QUEUED_TTL_SECONDS = 15 * 60


def retry_policy() -> RetryPolicy:
    """Capped exponential backoff with jitter, from the portal's task retry
    settings; after the last retry the outage is stored as the result."""
    return RetryPolicy(
        base=settings.PORTAL_TASK_RETRY_BASE,
        cap=settings.PORTAL_TASK_RETRY_CAP,
        max_attempts=settings.PORTAL_TASK_MAX_ATTEMPTS,
    )


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def verify_binding_task(self, binding_id: int, claim: str = "") -> str:
    if claim:
        # From now on a new ask queues one more run: this one may already
        # have read what the asker wants looked at again.
        release_queued(claim, self.request.id or "")
    attempt = self.request.retries + 1
    run = verify_run_start(binding_id, task_id=self.request.id or "", attempt=attempt)
    policy = retry_policy()
    more = attempt <= policy.max_attempts
    try:
        result = verify_binding_now(binding_id, raise_retryable=more)
    except Binding.DoesNotExist:
        verify_run_finish(run, TaskRun.Outcome.FAILED, error=f"binding {binding_id} is gone")
        return "gone"
    except RetryableError as error:
        countdown = policy.delay(attempt, error)
        verify_run_finish(run, TaskRun.Outcome.RETRYING, error=str(error), retry_in=countdown)
        raise self.retry(exc=error, countdown=countdown) from None
    except Exception as error:
        # A bug: the run must not stay "running".
        verify_run_finish(run, TaskRun.Outcome.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    if not result.error:
        # AWS drift shows on the binding now, not at the next health sweep.
        binding_refresh_aws_drift(binding_id=binding_id)
    outcome = TaskRun.Outcome.FAILED if result.error else TaskRun.Outcome.SUCCEEDED
    verify_run_finish(run, outcome, error=result.error, verification_id=result.pk, ok=result.ok)
    return "ok" if result.ok else "problems"


def claim_name(binding: Binding, job: str = "verify") -> str:
    """The claim of ``job``'s one queued run for ``binding``."""
    # The creation time too: ids start again in a rebuilt database (the demo
    # starts afresh each time, tests), and Redis keeps the claims of the old one.
    return f"{job}:{binding.pk}:{binding.created_at.timestamp():.6f}"


def enqueue_verification(binding_id: int) -> Queued:
    """Queue a verification of the binding unless one is queued already.
    Call it once the binding is committed: the worker must find it."""
    binding = Binding.objects.only("pk", "created_at").filter(pk=binding_id).first()
    if binding is None:
        return Queued.NOT_QUEUED
    return send_once(
        verify_binding_task, (binding_id,), claim=claim_name(binding), ttl=QUEUED_TTL_SECONDS
    )
