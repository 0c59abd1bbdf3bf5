"""What differs between a grant, a revocation and a change, in one place.

The state machine (``workflow``) is the same for every kind; at two points
it asks the request's kind what the step means: when the last approval is
recorded, and when every pull request is merged. The pull-request code asks
it for the branch, what the pull requests change, and which one merges
first. Both hooks run inside the transaction of the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secrets_app.bindings.changes import binding_change_merged
from secrets_app.bindings.extension import binding_extend
from secrets_app.bindings.lifecycle import (
    binding_activate,
    binding_mark_revoking,
    binding_removal_merged,
)
from secrets_app.models import AccessRequest, PullRequestPurpose, RequestKind

Step = Callable[..., Any]  # step(request, *, actor)


def _nothing(request: AccessRequest, *, actor) -> None:
    return None


@dataclass(frozen=True)
class Kind:
    #: The ``PullRequest.purpose`` of its pull requests.
    purpose: str
    #: Its branch: ``portal/<prefix>-<request id>``.
    branch_prefix: str
    #: The repository whose pull request must be merged first: a grant's role
    #: must exist before pods name it; a revocation's pods must stop using
    #: the role before it is deleted.
    merge_first: str
    #: Removal pull requests delete the rendered files instead of writing them.
    removes_files: bool
    approved: Step
    merged: Step

    def branch(self, request: AccessRequest) -> str:
        return f"portal/{self.branch_prefix}-{request.pk}"

    def change(
        self, request: AccessRequest, repository: str, rendered: dict[str, str]
    ) -> dict[str, Any]:
        """What a backend's ``ensure_pull_request`` writes in ``repository``:
        a grant's rendered files; for a removal, exactly the paths the
        revocation fixed when it was filed (``AccessRequest.deletes``), never
        paths derived again from the cluster's layout of today."""
        if not self.removes_files:
            # A change's files replace its binding's at the same paths; those
            # the binding had and the new render has not (fixed when it was
            # filed, ``AccessRequest.deletes``) are deleted. A grant has none.
            gone = sorted(set((request.deletes or {}).get(repository) or []) - set(rendered))
            return {"files": rendered, "delete": gone} if gone else {"files": rendered}
        if not request.deletes:
            # Filed before revocations fixed their paths (migration 0006).
            return {"files": {}, "delete": sorted(rendered)}
        return {"files": {}, "delete": sorted(request.deletes.get(repository) or [])}

    @staticmethod
    def paths(change: dict[str, Any]) -> list[str]:
        """The paths a change writes or deletes."""
        return sorted([*change["files"], *change.get("delete", [])])


GRANT = Kind(
    purpose=PullRequestPurpose.GRANT,
    branch_prefix="request",
    merge_first="infra",
    removes_files=False,
    approved=_nothing,
    merged=binding_activate,
)
REVOKE = Kind(
    purpose=PullRequestPurpose.REVOKE,
    branch_prefix="revoke",
    merge_first="deploy",
    removes_files=True,
    approved=binding_mark_revoking,
    merged=binding_removal_merged,
)
CHANGE = Kind(
    purpose=PullRequestPurpose.CHANGE,
    branch_prefix="change",
    # As a grant: the role must allow a new secret before the pods mount it.
    merge_first="infra",
    removes_files=False,
    approved=_nothing,
    merged=binding_change_merged,
)
# The expiry date is the portal's own record: approval moves it and ends
# the request, so nothing opens pull requests (no purpose, branch or order).
EXTEND = Kind(
    purpose="",
    branch_prefix="extend",
    merge_first="",
    removes_files=False,
    approved=binding_extend,
    merged=_nothing,
)
KINDS = {
    RequestKind.GRANT: GRANT,
    RequestKind.REVOKE: REVOKE,
    RequestKind.CHANGE: CHANGE,
    RequestKind.EXTEND: EXTEND,
}


def kind_of(request: AccessRequest) -> Kind:
    return KINDS[request.kind]
