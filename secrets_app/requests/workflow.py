"""The request workflow: every state change of an access request happens here.

Views, the API, the admin and Celery tasks call these services; each runs in
one transaction, locks the request row (``select_for_update``) before it
checks the state, and writes its audit event in that same transaction, so a
refused or failed transition leaves neither a change nor a record.

Grants and revocations go through the same states; what differs (what an
approval and the merged pull requests do to bindings) is asked of the
request's kind (``kinds``). What runs after a change commits (the
pull-request task, verification, notifications) hangs off its audit event
(``events.followups``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from secrets_app.accounts.roles import is_approver
from secrets_app.events.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    Binding,
    Cluster,
    Comment,
    Decision,
    PullRequest,
    PullRequestPurpose,
    PullRequestState,
    RequestKind,
    RequestState,
    SecretGrant,
    Verdict,
)
from secrets_app.requests.kinds import kind_of
from secrets_app.requests.permissions import can_comment
from secrets_app.requests.states import (
    OPEN_STATES,
    PROVISIONABLE,
    RETRYABLE,
    WorkflowError,
    lock_request,
    move_state,
    require_state,
)

__all__ = [
    "OPEN_STATES",
    "PROVISIONABLE",
    "RETRYABLE",
    "WorkflowError",
    "pull_request_record",
    "pull_request_update_state",
    "request_approve",
    "request_cancel",
    "request_comment",
    "request_create",
    "request_fail",
    "request_reject",
    "request_retry",
    "request_start_provisioning",
    "request_submit",
]


@transaction.atomic
def request_create(
    *,
    requester: AbstractBaseUser,
    secrets: Iterable[dict[str, Any]],
    submit: bool = True,
    kind: str = RequestKind.GRANT,
    revokes: Binding | None = None,
    **filed: Any,
) -> AccessRequest:
    """Save a checked request (``filed``: ``AccessRequest.FILED_FIELDS``) with its
    secrets; submit it unless a draft is asked for.

    Grants are checked and filed by ``filing.request_file``; revocations by
    ``revocation.request_revocation``. A retired cluster refuses new grants but
    must still accept revocations."""
    unknown = set(filed) - set(AccessRequest.FILED_FIELDS)
    if unknown:
        raise TypeError(f"request_create() got fields it does not know: {sorted(unknown)}")
    cluster: Cluster = filed["cluster"]
    if kind == RequestKind.GRANT and not cluster.active:
        raise WorkflowError(f"Cluster {cluster.name} takes no new requests.", code="inactive")
    request = AccessRequest.objects.create(requester=requester, kind=kind, revokes=revokes, **filed)
    grants = [SecretGrant(request=request, position=i, **s) for i, s in enumerate(secrets)]
    if not grants:
        raise WorkflowError("A request needs at least one secret.", code="no_secrets")
    SecretGrant.objects.bulk_create(grants)
    audit_record(
        actor=requester,
        action="request.created",
        obj=request,
        request=request,
        after={"state": request.state, "secrets": [g.alias for g in grants]},
    )
    if submit:
        _submit(request, actor=requester)
    return request


def _submit(request: AccessRequest, *, actor) -> None:
    move_state(
        request,
        to=RequestState.PENDING,
        actor=actor,
        action="request.submitted",
        submitted_at=timezone.now(),
    )


def _lock_for_requester(
    request_id: int, actor, *allowed: str, doing: str, done: str
) -> AccessRequest:
    """Lock a request that only its requester may act on, in one of ``allowed``."""
    request = lock_request(request_id)
    if request.requester_id != actor.pk:
        raise WorkflowError(f"Only the requester can {doing} this request.", code="forbidden")
    require_state(request, *allowed, doing=done)
    return request


@transaction.atomic
def request_submit(*, request_id: int, actor) -> AccessRequest:
    request = _lock_for_requester(
        request_id, actor, RequestState.DRAFT, doing="submit", done="submitted"
    )
    _submit(request, actor=actor)
    return request


def _lock_for_decision(request_id: int, approver, *, doing: str, done: str) -> AccessRequest:
    """Lock a pending request for an approver's decision: only the platform
    team decides, never on its own request, and once per person."""
    request = lock_request(request_id)
    if not is_approver(approver):
        raise WorkflowError(
            f"Only members of the platform team can {doing} requests.", code="forbidden"
        )
    if request.requester_id == approver.pk:
        raise WorkflowError(
            f"You cannot {doing} your own request: another member of the platform team must.",
            code="own_request",
        )
    require_state(request, RequestState.PENDING, doing=done)
    if Decision.objects.filter(request=request, approver=approver).exists():
        verb = "approved" if doing == "approve" else "decided on"
        raise WorkflowError(f"You have already {verb} this request.", code="duplicate")
    return request


@transaction.atomic
def request_approve(*, request_id: int, approver, comment: str = "") -> AccessRequest:
    """Record one approval; the request becomes approved once the cluster's
    required number of distinct approvers have approved."""
    request = _lock_for_decision(request_id, approver, doing="approve", done="approved")
    decision = Decision.objects.create(
        request=request, approver=approver, verdict=Verdict.APPROVE, comment=comment
    )
    approvals = Decision.objects.filter(request=request, verdict=Verdict.APPROVE).count()
    required = request.cluster.required_approvals
    audit_record(
        actor=approver,
        action="request.approval_recorded",
        obj=decision,
        request=request,
        after={"approvals": approvals, "required": required},
        message=comment,
    )
    if approvals >= required:
        move_state(
            request,
            to=RequestState.APPROVED,
            actor=approver,
            action="request.approved",
            decided_at=timezone.now(),
        )
        # The follow-up (the pull-request task) hangs off "request.approved".
        kind_of(request).approved(request, actor=approver)
    return request


@transaction.atomic
def request_reject(*, request_id: int, approver, reason: str) -> AccessRequest:
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("A rejection needs a reason for the requester.", code="no_reason")
    request = _lock_for_decision(request_id, approver, doing="reject", done="rejected")
    Decision.objects.create(
        request=request, approver=approver, verdict=Verdict.REJECT, comment=reason
    )
    move_state(
        request,
        to=RequestState.REJECTED,
        actor=approver,
        action="request.rejected",
        message=reason,
        decided_at=timezone.now(),
    )
    return request


@transaction.atomic
def request_cancel(*, request_id: int, actor) -> AccessRequest:
    request = _lock_for_requester(
        request_id,
        actor,
        RequestState.DRAFT,
        RequestState.PENDING,
        doing="cancel",
        done="cancelled",
    )
    move_state(request, to=RequestState.CANCELLED, actor=actor, action="request.cancelled")
    return request


@transaction.atomic
def request_comment(*, request_id: int, author, body: str) -> Comment:
    body = (body or "").strip()
    if not body:
        raise WorkflowError("A comment cannot be empty.", code="empty")
    request = lock_request(request_id)
    if not can_comment(author, request):
        raise WorkflowError(
            "Only the requester and the platform team can comment on this request.",
            code="forbidden",
        )
    comment = Comment.objects.create(request=request, author=author, body=body)
    audit_record(
        actor=author, action="request.commented", obj=comment, request=request, message=body
    )
    return comment


# --- Provisioning and tracking (called by the pull-request task, the webhook
# and the poll; ``actor`` is None for the system) ---------------------------


@transaction.atomic
def request_start_provisioning(*, request_id: int) -> AccessRequest | None:
    """Claim an approved request for the pull-request task. A request already
    provisioning is returned as is (a retry or a redelivered task); any other
    state means there is nothing to do, and None is returned."""
    request = lock_request(request_id)
    if request.state == RequestState.APPROVED:
        move_state(request, to=RequestState.PROVISIONING, actor=None, action="request.provisioning")
    return request if request.state == RequestState.PROVISIONING else None


@transaction.atomic
def pull_request_record(
    *,
    request_id: int,
    repository: str,
    repo_name: str,
    branch: str,
    ref,
    purpose: str = PullRequestPurpose.GRANT,
) -> PullRequest:
    """Store the pull request a backend opened (or found), once per repository."""
    request = lock_request(request_id)
    url = _web_url(ref.url)
    pull, created = PullRequest.objects.get_or_create(
        request=request,
        repository=repository,
        purpose=purpose,
        defaults={
            "repo_name": repo_name,
            "branch": branch,
            "number": ref.number,
            "url": url,
            "state": ref.state,
            "head_sha": ref.head_sha or "",
        },
    )
    if not created and (pull.number, pull.head_sha) != (ref.number, ref.head_sha or ""):
        # A PR closed unmerged was replaced by a new one on a re-run.
        pull.number, pull.url, pull.state = ref.number, url, ref.state
        pull.head_sha = ref.head_sha or ""
        pull.save(update_fields=["number", "url", "state", "head_sha", "updated_at"])
        created = True
    if created:
        audit_record(
            actor=None,
            action="pull_request.opened",
            obj=pull,
            request=request,
            after={"repository": repository, "url": url, "number": ref.number},
        )
    return pull


def _web_url(url: str) -> str:
    # The URL comes from the Git server's answer and is shown as a link: only
    # http(s) is kept, so a hostile server cannot plant a javascript: link.
    return url if urlsplit(url).scheme in ("https", "http") else ""


@transaction.atomic
def pull_request_update_state(*, pull_id: int, state: str, actor=None) -> PullRequest:
    """A pull request was merged or closed (webhook, poll or the demo's merge
    button). When every pull request of the request is merged, the request
    becomes active; one closed unmerged needs a person to look."""
    pull = PullRequest.objects.select_for_update().get(pk=pull_id)
    request = lock_request(pull.request_id)
    if pull.state == state:
        return pull
    before = pull.state
    pull.state = state
    if state == PullRequestState.MERGED:
        pull.merged_at = timezone.now()
    pull.save(update_fields=["state", "merged_at", "updated_at"])
    audit_record(
        actor=actor,
        action=f"pull_request.{state}",
        obj=pull,
        request=request,
        before={"state": before},
        after={"state": state, "url": pull.url},
    )
    pulls = list(request.pull_requests.filter(purpose=pull.purpose))
    if state == PullRequestState.CLOSED and request.state == RequestState.PROVISIONING:
        move_state(
            request,
            to=RequestState.NEEDS_ATTENTION,
            actor=actor,
            action="request.needs_attention",
            message=f"{pull.repo_name}#{pull.number} was closed without merging.",
        )
    elif (
        len(pulls) == 2
        and all(p.state == PullRequestState.MERGED for p in pulls)
        and request.state in (RequestState.PROVISIONING, RequestState.NEEDS_ATTENTION)
    ):
        kind_of(request).merged(request, actor=actor)
    return pull


@transaction.atomic
def request_fail(*, request_id: int, reason: str) -> AccessRequest:
    request = lock_request(request_id)
    if request.state in PROVISIONABLE:
        move_state(
            request, to=RequestState.FAILED, actor=None, action="request.failed", message=reason
        )
    return request


@transaction.atomic
def request_retry(*, request_id: int, actor) -> AccessRequest:
    """An admin sends a failed (or stuck) request back to the pull-request task."""
    request = lock_request(request_id)
    if not (actor.is_staff or is_approver(actor)):
        raise WorkflowError("Only admins and the platform team can retry.", code="forbidden")
    require_state(request, *RETRYABLE, doing="retried")
    # The follow-up (the pull-request task) hangs off "request.retried".
    move_state(request, to=RequestState.APPROVED, actor=actor, action="request.retried")
    return request
