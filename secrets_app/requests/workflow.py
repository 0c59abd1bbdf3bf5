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
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from secrets_app.accounts.roles import is_approver
from secrets_app.events.audit import audit_record
from secrets_app.integrations.backends import REPOSITORIES
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
from secrets_app.ownership.claims import ClaimHeld
from secrets_app.requests import claiming
from secrets_app.requests.approvals import has_enough_approvals
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
    "pull_move_allowed",
    "pull_request_record",
    "pull_request_update_state",
    "pull_requests_opened",
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
    changes: Binding | None = None,
    extends: Binding | None = None,
    **filed: Any,
) -> AccessRequest:
    """Save a checked request (``filed``: ``AccessRequest.FILED_FIELDS``) with its
    secrets; submit it unless a draft is asked for.

    Grants are checked and filed by ``filing.request_file``; revocations by
    ``revocation.request_revocation``; changes by ``changes.request_change``;
    extensions by ``extension.request_extension``.
    A retired cluster refuses new grants but must still accept revocations."""
    unknown = set(filed) - set(AccessRequest.FILED_FIELDS)
    if unknown:
        raise TypeError(f"request_create() got fields it does not know: {sorted(unknown)}")
    cluster: Cluster = filed["cluster"]
    if kind == RequestKind.GRANT and not cluster.active:
        raise WorkflowError(f"Cluster {cluster.name} takes no new requests.", code="inactive")
    request = AccessRequest.objects.create(
        requester=requester,
        kind=kind,
        revokes=revokes,
        changes=changes,
        extends=extends,
        **filed,
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
        _submit(request, actor=requester)
    return request


def _submit(request: AccessRequest, *, actor) -> None:
    # Submitted, it holds its role, ServiceAccount and files (or, changing or
    # revoking a binding, that binding) until it ends.
    try:
        claiming.claim(request)
    except ClaimHeld as held:
        raise WorkflowError(str(held), code="claimed", problems=held.problems) from None
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
    if has_enough_approvals(approvals, required):
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
        move_state(
            request,
            to=RequestState.PROVISIONING,
            actor=None,
            action="request.provisioning",
            prs_opened_at=None,
        )
    return request if request.state == RequestState.PROVISIONING else None


@transaction.atomic
def pull_requests_opened(*, request_id: int, purpose: str) -> None:
    """The pull-request task finished: every pull request is recorded. From
    now on the request waits for people, and the requeue job leaves it be.
    When every one had merged already (merged while a retry waited), the
    request is carried out now: no webhook will come for them again."""
    request = lock_request(request_id)
    if request.state != RequestState.PROVISIONING:
        return
    request.prs_opened_at = timezone.now()
    request.save(update_fields=["prs_opened_at", "updated_at"])
    pulls = list(request.pull_requests.filter(purpose=purpose))
    if len(pulls) == len(REPOSITORIES) and all(p.state == PullRequestState.MERGED for p in pulls):
        _carry_out(request, actor=None)


@transaction.atomic
def pull_request_record(
    *,
    request_id: int,
    repository: str,
    repo_name: str,
    branch: str,
    ref,
    purpose: str = PullRequestPurpose.GRANT,
    paths: Iterable[str] = (),
    file_hashes: dict[str, str] | None = None,
) -> PullRequest:
    """Store the pull request a backend opened (or found), once per repository.

    A recorded pull request that merged is final: nothing replaces it. One
    closed unmerged is replaced by the one a re-run opened. A ref that is no
    longer open (found merged) moves the record as a webhook would.
    ``file_hashes`` (the blob id of each file written) follows the branch:
    a re-run that rewrote it records what it holds now."""
    request = lock_request(request_id)
    url = _web_url(ref.url)
    pull = (
        PullRequest.objects.select_for_update(of=("self",))
        .filter(request=request, repository=repository, purpose=purpose)
        .first()
    )
    if pull is not None and pull.state == PullRequestState.MERGED:
        return pull
    if pull is None or pull.number != ref.number:
        opened = pull is None or pull.number != ref.number
        if pull is None:
            pull = PullRequest(request=request, repository=repository, purpose=purpose)
        pull.repo_name, pull.branch, pull.number, pull.url = repo_name, branch, ref.number, url
        pull.state, pull.head_sha = PullRequestState.OPEN, ref.head_sha or ""
        pull.paths, pull.merged_at, pull.remote_updated_at = sorted(paths), None, None
        pull.file_hashes = dict(file_hashes or {})
        pull.save()
        if opened:
            audit_record(
                actor=None,
                action="pull_request.opened",
                obj=pull,
                request=request,
                after={"repository": repository, "url": url, "number": ref.number},
            )
    elif file_hashes is not None and pull.file_hashes != file_hashes:
        pull.file_hashes = dict(file_hashes)
        pull.save(update_fields=["file_hashes", "updated_at"])
    if ref.state != pull.state:
        _move_pull(request, pull, ref.state, actor=None, reopen=False)
    return pull


def _web_url(url: str) -> str:
    # The URL comes from the Git server's answer and is shown as a link: only
    # http(s) is kept, so a hostile server cannot plant a javascript: link.
    return url if urlsplit(url).scheme in ("https", "http") else ""


@transaction.atomic
def pull_request_update_state(
    *,
    pull_id: int,
    state: str,
    actor=None,
    reopen: bool = False,
    remote_updated_at=None,
) -> PullRequest:
    """A pull request was merged, closed or reopened (webhook, poll, a re-run
    or the demo's merge button).

    Monotonic: merged is final; closed goes back to open only when ``reopen``
    says the source saw a real reopen (a "reopened" webhook, or the poll
    reading it open); an event older than the last one applied
    (``remote_updated_at``) is ignored. Locks the request, then the pull
    request, as every writer does."""
    request_id = PullRequest.objects.values_list("request_id", flat=True).get(pk=pull_id)
    request = lock_request(request_id)
    pull = PullRequest.objects.select_for_update(of=("self",)).get(pk=pull_id)
    if remote_updated_at is not None:
        if pull.remote_updated_at is not None and remote_updated_at < pull.remote_updated_at:
            return pull
        pull.remote_updated_at = remote_updated_at
        pull.save(update_fields=["remote_updated_at", "updated_at"])
    _move_pull(request, pull, state, actor=actor, reopen=reopen)
    return pull


#: The moves a pull request's state may make, and whether it needs a reopen.
_PULL_MOVES = {
    (PullRequestState.OPEN, PullRequestState.MERGED): False,
    (PullRequestState.OPEN, PullRequestState.CLOSED): False,
    (PullRequestState.CLOSED, PullRequestState.MERGED): False,
    (PullRequestState.CLOSED, PullRequestState.OPEN): True,
}


def pull_move_allowed(before: str, after: str, *, reopen: bool) -> bool:
    """Whether a pull request's state may move from ``before`` to ``after``
    (``_PULL_MOVES``); fleet upgrades' pull requests follow the same rules."""
    needs_reopen = _PULL_MOVES.get((before, after))
    return needs_reopen is not None and (reopen or not needs_reopen)


def _move_pull(request: AccessRequest, pull: PullRequest, state: str, *, actor, reopen: bool):
    if not pull_move_allowed(pull.state, state, reopen=reopen):
        return
    before = pull.state
    pull.state = state
    if state == PullRequestState.MERGED:
        pull.merged_at = timezone.now()
    pull.save(update_fields=["state", "merged_at", "updated_at"])
    audit_record(
        actor=actor,
        action="pull_request.reopened"
        if state == PullRequestState.OPEN
        else f"pull_request.{state}",
        obj=pull,
        request=request,
        before={"state": before},
        after={"state": state, "url": pull.url},
    )
    _settle(request, pull, actor=actor)


def _settle(request: AccessRequest, pull: PullRequest, *, actor) -> None:
    """What the request does now that ``pull`` changed: needs a person when
    one closed unmerged, goes on when it was reopened, and is carried out
    (the kind's ``merged`` step) when every pull request merged.

    The step runs in a savepoint: when it fails (a spec newer rules refuse,
    a ServiceAccount taken since), the merge stays recorded and the request
    needs a person, with the reason, instead of failing the webhook or the
    poll for everyone."""
    pulls = list(request.pull_requests.filter(purpose=pull.purpose))
    states = {p.state for p in pulls}
    if pull.state == PullRequestState.CLOSED and request.state == RequestState.PROVISIONING:
        move_state(
            request,
            to=RequestState.NEEDS_ATTENTION,
            actor=actor,
            action="request.needs_attention",
            message=f"{pull.repo_name}#{pull.number} was closed without merging.",
        )
    elif (
        pull.state == PullRequestState.OPEN
        and request.state == RequestState.NEEDS_ATTENTION
        and PullRequestState.CLOSED not in states
    ):
        move_state(
            request,
            to=RequestState.PROVISIONING,
            actor=actor,
            action="request.provisioning",
            message=f"{pull.repo_name}#{pull.number} was reopened.",
        )
    elif (
        len(pulls) == len(REPOSITORIES)
        and states == {PullRequestState.MERGED}
        and request.state in (RequestState.PROVISIONING, RequestState.NEEDS_ATTENTION)
    ):
        _carry_out(request, actor=actor)


def _carry_out(request: AccessRequest, *, actor) -> None:
    """Every pull request merged: the kind's ``merged`` step, in a savepoint."""
    try:
        with transaction.atomic():
            kind_of(request).merged(request, actor=actor)
    except (OperationalError, InterfaceError):
        raise  # the database itself: the caller retries the whole change
    except Exception as error:
        request.refresh_from_db(fields=["state"])
        if request.state != RequestState.NEEDS_ATTENTION:
            move_state(
                request,
                to=RequestState.NEEDS_ATTENTION,
                actor=actor,
                action="request.needs_attention",
                message="Every pull request merged, but the portal could not record "
                f"the result: {error}",
            )


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
