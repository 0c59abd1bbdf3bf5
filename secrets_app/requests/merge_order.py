"""Which of a request's two pull requests merges first, and the refusal of
the other one until it has.

A grant (or a change) merges infra first: the IAM role and its policy must
exist before the pods name them. A revocation merges deploy first: the pods
must stop using the role before it is deleted. The request's kind says which
(``Kind.merge_first``); fleet upgrades follow the same rule
(``fleet.tracking.infra_first``).
"""

from __future__ import annotations

from collections.abc import Iterable

from secrets_app.models import AccessRequest, PullRequest, PullRequestState
from secrets_app.requests.kinds import kind_of
from secrets_app.requests.states import WorkflowError

WHY = {
    "infra": "the IAM role and its policy must exist before the pods use them",
    "deploy": "the pods must stop using the IAM role before it is deleted",
}


def first_repository(request: AccessRequest) -> str:
    return kind_of(request).merge_first


def in_merge_order(request: AccessRequest, pulls: Iterable[PullRequest]) -> list[PullRequest]:
    """``pulls``, the one to merge first first."""
    first = first_repository(request)
    return sorted(pulls, key=lambda p: p.repository != first)


def order_reason(request: AccessRequest) -> str:
    """Why, in words: "Merge the infra pull request first: ..."."""
    first = first_repository(request)
    return f"Merge the {first} pull request first: {WHY[first]}."


def waits_for(pull: PullRequest, siblings: Iterable[PullRequest]) -> PullRequest | None:
    """The pull request of the same request that must merge before ``pull``
    and has not (None: ``pull`` may merge). ``siblings``: the request's pull
    requests (``pull`` among them or not)."""
    first = first_repository(pull.request)
    if pull.repository == first:
        return None
    return next(
        (
            p
            for p in siblings
            if p.repository == first
            and p.purpose == pull.purpose
            and p.state != PullRequestState.MERGED
        ),
        None,
    )


def blocked_reason(pull: PullRequest, siblings: Iterable[PullRequest]) -> str:
    """Why ``pull`` cannot merge yet ("" when it can)."""
    other = waits_for(pull, siblings)
    if other is None:
        return ""
    # The number, not the repository's name: a local one's is a long path.
    return (
        f"Merge the {other.repository} pull request #{other.number} first: {WHY[other.repository]}."
    )


def check_merge_order(pull: PullRequest) -> None:
    """Refuse to merge ``pull`` before the pull request that goes first."""
    reason = blocked_reason(pull, pull.request.pull_requests.all())
    if reason:
        raise WorkflowError(reason, code="wrong_order")
