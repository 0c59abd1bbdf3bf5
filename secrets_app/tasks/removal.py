"""The removal check of revoked bindings, after each health sweep. Thin:
asks AWS what is left of one binding whose removal pull requests merged,
retrying what AWS may answer later (throttling) as verification does, and
hands the answer to ``bindings.lifecycle.binding_removal_checked``, which
revokes the binding when neither the sweep nor AWS found anything."""

from __future__ import annotations

from celery import shared_task

from secrets_app.aws_portal import aws_leftovers
from secrets_app.bindings.lifecycle import binding_removal_checked
from secrets_app.integrations.errors import RetryableError
from secrets_app.models import AccessRequest, Binding, BindingState, RequestState, TaskRun
from secrets_app.tasks.locks import Queued, release_queued, send_once
from secrets_app.tasks.verification import QUEUED_TTL_SECONDS, claim_name, retry_policy

KIND = "removal_check"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def check_removal_task(self, binding_id: int, claim: str = "") -> str:
    if claim:
        release_queued(claim, self.request.id or "")
    attempt = self.request.retries + 1
    policy = retry_policy()
    run = _run_start(self, binding_id, attempt)
    try:
        aws = aws_leftovers(binding_id, raise_retryable=attempt <= policy.max_attempts)
        binding = binding_removal_checked(binding_id=binding_id, aws=aws)
    except Binding.DoesNotExist:
        run.finish(TaskRun.Outcome.FAILED, error=f"binding {binding_id} is gone")
        return "gone"
    except RetryableError as error:
        countdown = policy.delay(attempt, error)
        run.finish(TaskRun.Outcome.RETRYING, error=str(error), retry_in=countdown)
        raise self.retry(exc=error, countdown=countdown) from None
    except Exception as error:
        run.finish(TaskRun.Outcome.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    revoked = binding is not None and binding.state == BindingState.REVOKED
    left = [] if binding is None else binding.leftovers
    run.finish(TaskRun.Outcome.SUCCEEDED, revoked=revoked, leftovers=left)
    return "revoked" if revoked else "waiting"


def _run_start(task, binding_id: int, attempt: int) -> TaskRun:
    """The visible record of one check, on the revocation's page."""
    place = Binding.objects.filter(pk=binding_id).values("cluster_id").first() or {}
    revocation = (
        AccessRequest.objects.filter(revokes_id=binding_id, state=RequestState.REVOKING)
        .values_list("pk", flat=True)
        .first()
    )
    return TaskRun.objects.create(
        kind=KIND,
        request_id=revocation,
        cluster_id=place.get("cluster_id"),
        task_id=task.request.id or "",
        attempt=attempt,
        detail={"binding_id": binding_id},
    )


def enqueue_removal_checks(cluster_id: int) -> int:
    """After a sweep that could read the cluster: one check per binding of it
    whose removal merged, unless one is queued already. Returns how many
    were queued."""
    waiting = Binding.objects.filter(
        cluster_id=cluster_id, state=BindingState.REVOKING, removal_merged_at__isnull=False
    ).only("pk", "created_at")
    sent = [
        send_once(
            check_removal_task,
            (binding.pk,),
            claim=claim_name(binding, KIND),
            ttl=QUEUED_TTL_SECONDS,
        )
        for binding in waiting
    ]
    return sent.count(Queued.QUEUED)
