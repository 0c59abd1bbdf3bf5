"""The words of each notification: a short subject and a plain-text body,
the same for email and Slack (Slack escapes it when it is sent).

Every message names the request or binding and links to its page in the
portal. What users typed (justification, reason, comments) is quoted as text
and cut to a sane length; names are DNS labels the forms validated.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from secrets_app.models import AccessRequest, Binding, PullRequest, RequestKind

SUBJECT_PREFIX = "[Secrets portal] "
SUBJECT_MAX = 255
QUOTE_MAX = 1500


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


def portal_url(obj: models.Model) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + obj.get_absolute_url()


def _subject(text: str) -> str:
    # A header: one line, bounded (the model's field and mail servers both limit it).
    line = " ".join((SUBJECT_PREFIX + text).split())
    return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"


def quote(text: str, limit: int = QUOTE_MAX) -> str:
    """User text as an indented block: it cannot pose as a line of ours."""
    text = (text or "").strip() or "(none given)"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "\n".join("    " + line for line in text.splitlines())


def title(request: AccessRequest) -> str:
    noun = {
        RequestKind.REVOKE: "Revocation request",
        RequestKind.CHANGE: "Change request",
        RequestKind.EXTEND: "Extension request",
    }.get(request.kind, "Request")
    return f"{noun} #{request.pk}"


def place(request: AccessRequest) -> str:
    return f"{request.service} in {request.cluster.name}/{request.namespace}"


def binding_name(binding: Binding) -> str:
    return f"{binding.cluster.name}/{binding.namespace}/{binding.service_account}"


def _what(request: AccessRequest) -> str:
    if request.kind == RequestKind.REVOKE:
        target = f"binding #{request.revokes_id}" if request.revokes_id else "a binding"
        return (
            f"{request.requester.get_username()} asks to revoke the access of "
            f"{request.workload_kind} {request.workload_name} in "
            f"{request.cluster.name}/{request.namespace} "
            f"(ServiceAccount {request.service_account}, {target})."
        )
    if request.kind == RequestKind.EXTEND:
        return (
            f"{request.requester.get_username()} asks to extend the access of "
            f"{request.workload_kind} {request.workload_name} in "
            f"{request.cluster.name}/{request.namespace} (binding #{request.extends_id}) "
            f"to {request.expires_on:%Y-%m-%d}."
        )
    secrets = [g.alias for g in request.secrets.all()]
    if request.kind == RequestKind.CHANGE:
        return (
            f"{request.requester.get_username()} asks to change the access of "
            f"{request.workload_kind} {request.workload_name} in "
            f"{request.cluster.name}/{request.namespace} (binding #{request.changes_id}): "
            f"it would read {len(secrets)} secret{'s' if len(secrets) != 1 else ''}: "
            f"{', '.join(secrets)}."
        )
    return (
        f"{request.requester.get_username()} asks that {request.workload_kind} "
        f"{request.workload_name} in {request.cluster.name}/{request.namespace} may read "
        f"{len(secrets)} secret{'s' if len(secrets) != 1 else ''}: {', '.join(secrets)}."
    )


def _lines(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p is not None).strip() + "\n"


def request_submitted(request: AccessRequest) -> Message:
    reason = "Reason" if request.kind == RequestKind.REVOKE else "Justification"
    expires = f"Expires on: {request.expires_on:%Y-%m-%d}" if request.expires_on else None
    return Message(
        _subject(f"{title(request)} awaits approval: {place(request)}"),
        _lines(
            _what(request),
            "",
            f"{reason}:",
            quote(request.justification),
            "",
            expires,
            f"Review it: {portal_url(request)}",
        ),
    )


def request_approved(request: AccessRequest, approvers: Sequence[str]) -> Message:
    if request.kind == RequestKind.EXTEND:
        then = (
            f"The binding now expires on {request.expires_on:%Y-%m-%d} "
            "(no pull requests: the expiry is the portal's own record)."
        )
    elif request.kind == RequestKind.REVOKE:
        then = "The portal now opens the pull requests that remove the access."
    else:
        then = "The portal now opens the pull requests that grant the access."
    return Message(
        _subject(f"{title(request)} approved: {place(request)}"),
        _lines(
            f"{title(request)} ({place(request)}) was approved by {', '.join(approvers)}.",
            then,
            "",
            f"Follow it: {portal_url(request)}",
        ),
    )


def request_rejected(request: AccessRequest, approver: str, reason: str) -> Message:
    return Message(
        _subject(f"{title(request)} rejected: {place(request)}"),
        _lines(
            f"{title(request)} ({place(request)}) was rejected by {approver or 'an approver'}.",
            "",
            "Reason:",
            quote(reason),
            "",
            f"See it: {portal_url(request)}",
        ),
    )


def request_commented(request: AccessRequest, author: str, body: str) -> Message:
    return Message(
        _subject(f"{author or 'Someone'} commented on {title(request)}: {place(request)}"),
        _lines(
            f"{author or 'Someone'} commented on {title(request)} ({place(request)}):",
            "",
            quote(body),
            "",
            f"Answer on its page: {portal_url(request)}",
        ),
    )


def access_active(request: AccessRequest, binding: Binding | None) -> Message:
    return Message(
        _subject(f"Access is active: {title(request)}, {place(request)}"),
        _lines(
            f"Both pull requests of {title(request)} ({place(request)}) are merged: "
            f"{request.workload_kind} {request.workload_name} has its role, ServiceAccount "
            "and SecretProviderClass, and may read its secrets once its pods restart.",
            "The portal verifies the role and the ServiceAccount now; the binding's page "
            "shows the result and, after the next health sweep, whether the pods mount "
            "the secrets.",
            "",
            f"The binding: {portal_url(binding)}" if binding is not None else None,
            f"The request: {portal_url(request)}",
        ),
    )


def request_in_trouble(request: AccessRequest, *, failed: bool, reason: str) -> Message:
    if failed:
        head = f"{title(request)} failed: {place(request)}"
        then = "An approver or admin can retry it from the request page once the cause is fixed."
    else:
        head = f"{title(request)} needs attention: {place(request)}"
        then = "Someone needs to look at its pull requests; it can be retried from its page."
    return Message(
        _subject(head),
        _lines(
            f"{head}.",
            "",
            "What happened:",
            quote(reason),
            "",
            then,
            f"See it: {portal_url(request)}",
        ),
    )


def pulls_opened(request: AccessRequest, pulls: Iterable[PullRequest]) -> Message:
    links = [f"  - {p.get_repository_display()}: {p.repo_name}#{p.number} {p.url}" for p in pulls]
    if request.kind == RequestKind.REVOKE:
        what, order = "remove", "Merge the deploy one first (the workload stops using the role)."
    else:
        what, order = "grant", "Merge the infra one first (the IAM role), then the deploy one."
    return Message(
        _subject(f"Pull requests opened for {title(request)}: {place(request)}"),
        _lines(
            f"The pull requests that {what} the access of {title(request)} ({place(request)}) "
            "are open:",
            *links,
            "",
            order,
            f"Follow it: {portal_url(request)}",
        ),
    )


def binding_failing(
    binding: Binding, *, since: datetime.datetime, minutes: int, diagnosis: str = ""
) -> Message:
    return Message(
        _subject(f"Binding failing for {minutes}+ minutes: {binding_name(binding)}"),
        _lines(
            f"Pods of {binding.workload_kind} {binding.workload_name} in "
            f"{binding.cluster.name}/{binding.namespace} have been failing to mount their "
            f"secrets since {since:%Y-%m-%d %H:%M} UTC.",
            "",
            *(["Last diagnosis:", quote(diagnosis, 500), ""] if diagnosis else []),
            f"Diagnosis and fix: {portal_url(binding)}",
        ),
    )


def binding_stale(binding: Binding, version: dict) -> Message:
    pods = ", ".join(f"{pod} ({v})" for pod, v in version["stale_pods"][:10])
    more = len(version["stale_pods"]) - 10
    return Message(
        _subject(f"Pods run an old version of {version['alias']}: {binding_name(binding)}"),
        _lines(
            f"Secrets Manager rotated {version['arn']} (current version "
            f"{version['current_version']}, since {version['rotated_at'] or 'unknown'}), "
            f"but pods of {binding.workload_kind} {binding.workload_name} in "
            f"{binding.cluster.name}/{binding.namespace} still mount an older one: "
            f"{pods}{f' and {more} more' if more > 0 else ''}.",
            "",
            "Pods keep the version they mounted unless the CSI driver runs with "
            "enableSecretRotation; env vars and synced Secrets change only when the "
            f"pods restart (kubectl -n {binding.namespace} rollout restart "
            f"{binding.workload_kind.lower()}/{binding.workload_name}).",
            f"Details: {portal_url(binding)}",
        ),
    )


def expiry_reminder(binding: Binding, days_left: int) -> Message:
    when = "tomorrow" if days_left == 1 else f"in {days_left} days"
    return Message(
        _subject(f"Access expires {when}: {binding_name(binding)}"),
        _lines(
            f"The access of {binding.workload_kind} {binding.workload_name} in "
            f"{binding.cluster.name}/{binding.namespace} to its secrets expires on "
            f"{binding.expires_on:%Y-%m-%d} ({when}).",
            "On that day the portal asks for its revocation. To keep the access, ask for a "
            "new grant with a later expiry date.",
            "",
            f"See it: {portal_url(binding)}",
        ),
    )


def binding_expired(binding: Binding, revocation: AccessRequest) -> Message:
    on = f" on {binding.expires_on:%Y-%m-%d}" if binding.expires_on else ""
    return Message(
        _subject(f"Access expired: {binding_name(binding)}"),
        _lines(
            f"The access of {binding.workload_kind} {binding.workload_name} in "
            f"{binding.cluster.name}/{binding.namespace} expired{on}.",
            f"{title(revocation)} asks for it to be revoked and waits for approval.",
            "",
            f"The revocation: {portal_url(revocation)}",
            f"The binding: {portal_url(binding)}",
        ),
    )


def slack_escape(text: str) -> str:
    """Slack reads ``<...>`` as links and mentions (``<!here>``, ``<@U1>``) and
    ``&`` as the start of an escape; everything we send is plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
