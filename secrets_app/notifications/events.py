"""Notifications of workflow events, heard from the audit log after the
change has committed (``events.followups`` routes the actions below here).

A listener never raises into the workflow: it runs after the commit, in its
own transaction, and logs whatever goes wrong. Keys make each notification
once-only: per request for what happens once (submitted, approved,
rejected, access active), per comment, per audit event for what may happen
again (failed, needs attention), per pair of pull requests for "pull
requests opened".
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    PullRequest,
    RequestKind,
    Verdict,
)

from . import messages
from .recipients import approvers, emails
from .store import record

log = logging.getLogger(__name__)

#: The repositories whose pull requests make a complete set.
REPOSITORIES = ("infra", "deploy")


def _requester_side(request: AccessRequest) -> list:
    """The requester and, for a revocation, the owner of the binding: the
    portal's expiry job asks as a system user nobody reads mail for."""
    people = [request.requester]
    if request.kind == RequestKind.REVOKE and request.revokes is not None:
        people.append(request.revokes.owner)
    return people


def _submitted(event: AuditEvent, request: AccessRequest) -> None:
    record(
        key=f"request.submitted:{request.pk}",
        event=event.action,
        message=messages.request_submitted(request),
        emails=emails(approvers(exclude=[request.requester_id])),
    )


def _approved(event: AuditEvent, request: AccessRequest) -> None:
    names = list(
        request.decisions.filter(verdict=Verdict.APPROVE)
        .order_by("created_at")
        .values_list("approver__username", flat=True)
    )
    record(
        key=f"request.approved:{request.pk}",
        event=event.action,
        message=messages.request_approved(request, names or [event.actor_name]),
        emails=emails(_requester_side(request)),
    )


def _rejected(event: AuditEvent, request: AccessRequest) -> None:
    record(
        key=f"request.rejected:{request.pk}",
        event=event.action,
        message=messages.request_rejected(request, event.actor_name, event.message),
        emails=emails(_requester_side(request)),
    )


def _in_trouble(event: AuditEvent, request: AccessRequest) -> None:
    people = _requester_side(request) + approvers()
    record(
        key=f"{event.action}:{request.pk}:{event.pk}",
        event=event.action,
        message=messages.request_in_trouble(
            request, failed=event.action == "request.failed", reason=event.message
        ),
        emails=emails(people),
    )


def _pull_opened(event: AuditEvent, request: AccessRequest) -> None:
    # One message per complete set: the first PR's event finds the second
    # missing and says nothing. A PR replaced on a re-run makes a new set.
    purpose = (
        PullRequest.objects.filter(pk=event.object_id).values_list("purpose", flat=True).first()
    )
    pulls = {p.repository: p for p in request.pull_requests.filter(purpose=purpose)}
    if purpose is None or set(pulls) != set(REPOSITORIES):
        return
    ordered = [pulls[r] for r in REPOSITORIES]
    numbers = "-".join(str(p.number) for p in ordered)
    record(
        key=f"pull_requests.opened:{request.pk}:{purpose}:{numbers}",
        event=event.action,
        message=messages.pulls_opened(request, ordered),
        emails=emails(_requester_side(request)),
    )


def _commented(event: AuditEvent, request: AccessRequest) -> None:
    # The requester hears of everyone else's comments (approvers asking,
    # admins helping), never of their own; by email only: a comment is a
    # conversation with them, not news for the team's Slack channel.
    people = [p for p in _requester_side(request) if p is not None and p.pk != event.actor_id]
    if not people:
        return
    record(
        key=f"request.commented:{event.object_id}",
        event=event.action,
        message=messages.request_commented(request, event.actor_name, event.message),
        emails=emails(people),
        slack=False,
    )


def _active(event: AuditEvent, request: AccessRequest) -> None:
    # Once per request, whatever re-runs the merge step or this listener.
    binding = Binding.objects.select_related("cluster").filter(request=request).first()
    record(
        key=f"request.active:{request.pk}",
        event=event.action,
        message=messages.access_active(request, binding),
        emails=emails(_requester_side(request)),
    )


HANDLERS: dict[str, Callable[[AuditEvent, AccessRequest], None]] = {
    "request.submitted": _submitted,
    "request.approved": _approved,
    "request.rejected": _rejected,
    "request.commented": _commented,
    "request.active": _active,
    "request.failed": _in_trouble,
    "request.needs_attention": _in_trouble,
    "pull_request.opened": _pull_opened,
}


#: The audit actions that notify someone.
ACTIONS = tuple(HANDLERS)


def notify_audit_event(event: AuditEvent) -> None:
    """Record (and hand over) the notifications of one committed audit event."""
    if not settings.NOTIFICATIONS_ENABLED:
        return
    try:
        with transaction.atomic():
            request = (
                AccessRequest.objects.select_related("cluster", "requester", "revokes__owner").get(
                    pk=event.request_id
                )
                if event.request_id
                else None
            )
            if request is not None:
                HANDLERS[event.action](event, request)
    except Exception:
        # The change itself has committed; a lost notification must not undo
        # or fail it. The log line names the event so it can be replayed.
        log.exception("could not record the notifications of audit event %s", event.pk)
