"""The request workflow: every state change of an access request happens here.

Views, the API, the admin and Celery tasks call these services; each runs in
one transaction, locks the request row (``select_for_update``) before it
checks the state, and writes its audit event in that same transaction, so a
refused or failed transition leaves neither a change nor a record.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from secrets_app.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    Cluster,
    Comment,
    Decision,
    RequestState,
    SecretGrant,
    Verdict,
)
from secrets_app.permissions import can_comment, is_approver

#: States in which a request still holds or is getting access.
OPEN_STATES = (
    RequestState.PENDING,
    RequestState.APPROVED,
    RequestState.PROVISIONING,
    RequestState.ACTIVE,
    RequestState.NEEDS_ATTENTION,
    RequestState.FAILED,
)

# Callbacks run after a transition commits (tasks register themselves here),
# so the workflow does not import Celery. Each receives the object's id.
_approved_hooks: list[Callable[[int], None]] = []
_binding_activated_hooks: list[Callable[[int], None]] = []


def on_request_approved(hook: Callable[[int], None]) -> Callable[[int], None]:
    """Run ``hook(request_id)`` after an approval that completes a request commits."""
    _approved_hooks.append(hook)
    return hook


def on_binding_activated(hook: Callable[[int], None]) -> Callable[[int], None]:
    """Run ``hook(binding_id)`` after a binding becomes active (both PRs merged)."""
    _binding_activated_hooks.append(hook)
    return hook


class WorkflowError(Exception):
    """An action the rules refuse; the message is shown to the user as is."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def _locked(request_id: int) -> AccessRequest:
    try:
        return (
            AccessRequest.objects.select_for_update(of=("self",))
            .select_related("cluster", "requester")
            .get(pk=request_id)
        )
    except AccessRequest.DoesNotExist:
        raise WorkflowError("This request does not exist.", code="not_found") from None


def _require_state(request: AccessRequest, *allowed: str, doing: str) -> None:
    if request.state not in allowed:
        names = " or ".join(str(s).replace("_", " ") for s in allowed)
        raise WorkflowError(
            f"Request #{request.pk} is {request.get_state_display().lower()}; "
            f"only {names} requests can be {doing}.",
            code="wrong_state",
        )


def _move(request: AccessRequest, *, to: str, actor, action: str, message: str = "", **fields):
    before = {"state": request.state}
    request.state = to
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["state", "updated_at", *fields])
    audit_record(
        actor=actor,
        action=action,
        obj=request,
        request=request,
        before=before,
        after={"state": to},
        message=message,
    )


@transaction.atomic
def request_create(
    *,
    requester: AbstractBaseUser,
    cluster: Cluster,
    service: str,
    namespace: str,
    workload_name: str,
    containers: list[str],
    service_account: str,
    mount_path: str,
    justification: str,
    secrets: Iterable[dict[str, Any]],
    workload_kind: str = "Deployment",
    role_name: str = "",
    expires_on: datetime.date | None = None,
    submit: bool = True,
) -> AccessRequest:
    """Save a validated request with its secrets; submit it unless a draft is asked for."""
    if not cluster.active:
        raise WorkflowError(f"Cluster {cluster.name} takes no new requests.", code="inactive")
    request = AccessRequest.objects.create(
        requester=requester,
        cluster=cluster,
        service=service,
        namespace=namespace,
        workload_kind=workload_kind,
        workload_name=workload_name,
        containers=list(containers),
        service_account=service_account,
        role_name=role_name,
        mount_path=mount_path,
        justification=justification,
        expires_on=expires_on,
    )
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
        _move(
            request,
            to=RequestState.PENDING,
            actor=requester,
            action="request.submitted",
            submitted_at=timezone.now(),
        )
    return request


@transaction.atomic
def request_submit(*, request_id: int, actor) -> AccessRequest:
    request = _locked(request_id)
    if request.requester_id != actor.pk:
        raise WorkflowError("Only the requester can submit this request.", code="forbidden")
    _require_state(request, RequestState.DRAFT, doing="submitted")
    _move(
        request,
        to=RequestState.PENDING,
        actor=actor,
        action="request.submitted",
        submitted_at=timezone.now(),
    )
    return request


def _check_decider(request: AccessRequest, approver, *, doing: str) -> None:
    if not is_approver(approver):
        raise WorkflowError(
            f"Only members of the platform team can {doing} requests.", code="forbidden"
        )
    if request.requester_id == approver.pk:
        raise WorkflowError(
            f"You cannot {doing} your own request: another member of the platform team must.",
            code="own_request",
        )


@transaction.atomic
def request_approve(*, request_id: int, approver, comment: str = "") -> AccessRequest:
    """Record one approval; the request becomes approved once the cluster's
    required number of distinct approvers have approved."""
    request = _locked(request_id)
    _check_decider(request, approver, doing="approve")
    _require_state(request, RequestState.PENDING, doing="approved")
    if Decision.objects.filter(request=request, approver=approver).exists():
        raise WorkflowError("You have already approved this request.", code="duplicate")
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
        _move(
            request,
            to=RequestState.APPROVED,
            actor=approver,
            action="request.approved",
            decided_at=timezone.now(),
        )
        for hook in _approved_hooks:
            transaction.on_commit(lambda hook=hook: hook(request.pk))
    return request


@transaction.atomic
def request_reject(*, request_id: int, approver, reason: str) -> AccessRequest:
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("A rejection needs a reason for the requester.", code="no_reason")
    request = _locked(request_id)
    _check_decider(request, approver, doing="reject")
    _require_state(request, RequestState.PENDING, doing="rejected")
    if Decision.objects.filter(request=request, approver=approver).exists():
        raise WorkflowError("You have already decided on this request.", code="duplicate")
    Decision.objects.create(
        request=request, approver=approver, verdict=Verdict.REJECT, comment=reason
    )
    _move(
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
    request = _locked(request_id)
    if request.requester_id != actor.pk:
        raise WorkflowError("Only the requester can cancel this request.", code="forbidden")
    _require_state(request, RequestState.DRAFT, RequestState.PENDING, doing="cancelled")
    _move(request, to=RequestState.CANCELLED, actor=actor, action="request.cancelled")
    return request


@transaction.atomic
def request_comment(*, request_id: int, author, body: str) -> Comment:
    body = (body or "").strip()
    if not body:
        raise WorkflowError("A comment cannot be empty.", code="empty")
    request = _locked(request_id)
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
