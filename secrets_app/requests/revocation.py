"""Revoking a binding: asked for, approved under the same rules as a grant,
carried out by pull requests that remove what the grant added.

A revocation is an ``AccessRequest`` of kind ``revoke`` that points at the
binding (``revokes``) and carries a copy of the grant's fields and secrets
(the names its pages and pull requests show). The paths its pull requests
delete are fixed when it is filed (``AccessRequest.deletes``), shown to the
approvers, and deleted exactly:

- a portal binding: the paths its grant's pull requests wrote, recorded when
  it became active (``Binding.files``), whatever the cluster's layout is now;
- an imported binding: the files that define its ServiceAccount,
  SecretProviderClass and IAM role in the repositories (``bindings.files``);
  when they cannot be found, or a file holds more than the binding, the
  revocation is refused with the reason.

Approval, rejection, comments, the pull-request task, retries and the audit
trail are the grant's own, in ``workflow``.

Binding and request states move together (``bindings.lifecycle``, called
through the revocation's kind, ``kinds.REVOKE``):

- revocation approved: binding ``revoking``, the grant request ``revoking``;
- both removal pull requests merged: binding ``revoked`` (with the time), the
  grant request and the revocation ``revoked``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from secrets_app.bindings.files import find_binding_files
from secrets_app.bindings.history import current_request
from secrets_app.events.audit import audit_record
from secrets_app.integrations.backends import REPOSITORIES
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSource,
    BindingState,
    RequestKind,
)
from secrets_app.rendering import BindingSpec, SpecInvalid, render_binding
from secrets_app.rendering.name_rules import DEFAULT_MOUNT_PATH
from secrets_app.requests import workflow
from secrets_app.requests.permissions import can_request_revocation
from secrets_app.requests.specs import spec_data
from secrets_app.requests.states import OPEN_STATES, WorkflowError


def open_revocation(binding: Binding) -> AccessRequest | None:
    """The revocation of this binding still in progress, if any."""
    return binding.revocations.filter(state__in=OPEN_STATES).order_by("-created_at").first()


def grant_fields(binding: Binding) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The binding fields and secrets that render the binding's files.

    A portal binding copies its grant exactly (same role name, same secrets
    and sync settings, hence the same paths), or the change merged since
    that its files now come from. An imported binding has no grant: its
    names are taken from what was found in the cluster."""
    grant = current_request(binding)
    if grant is not None:
        return (
            grant.filed(AccessRequest.BINDING_FIELDS),
            [g.filed() for g in grant.secrets.all()],
        )
    fields = {
        "service": binding.service,
        "namespace": binding.namespace,
        "workload_kind": binding.workload_kind,
        "workload_name": binding.workload_name,
        # The container list only shapes the deployment patch's content; a
        # removal needs the patch's path, which does not depend on it.
        "containers": [binding.workload_name],
        "service_account": binding.service_account,
        "role_name": binding.role_arn.rsplit("/", 1)[-1] if binding.role_arn else "",
        "mount_path": DEFAULT_MOUNT_PATH,
    }
    secrets = [
        {"secret": s.arn or s.name, "alias": s.alias} for s in binding.secrets.order_by("alias")
    ]
    return fields, secrets


def _check_renders(binding: Binding, fields: dict[str, Any], secrets: list[dict]) -> BindingSpec:
    """Refuse, with the reasons, a revocation whose files cannot be named."""
    try:
        return BindingSpec.from_dict(spec_data(fields, secrets, cluster=binding.cluster))
    except SpecInvalid as invalid:
        problems = "; ".join(str(p) for p in invalid.problems)
        raise WorkflowError(
            f"The portal cannot name this binding's files to remove them ({problems}). "
            "Remove it by hand and ask an admin to mark it revoked.",
            code="unrenderable",
        ) from None


def revocation_deletes(binding: Binding) -> dict[str, list[str]]:
    """The paths a revocation of ``binding`` would delete, per repository
    ({"infra": [...], "deploy": [...]}); a WorkflowError says why there are
    none. Reads the repositories for an imported binding (two requests per
    repository on GitHub), nothing otherwise."""
    if binding.source != BindingSource.IMPORTED:
        recorded = binding.files or {}
        if all(recorded.get(repo) for repo in REPOSITORIES):
            # Nothing is rendered: a grant that newer rules refuse (a mount
            # path or env var now forbidden) must still be revocable.
            return {repo: sorted(recorded[repo]) for repo in REPOSITORIES}
        # Activated before bindings recorded their files (migration 0006):
        # the grant's paths rendered with the cluster's layout of today, as
        # revocations always did until then.
        fields, secrets = grant_fields(binding)
        rendered = render_binding(_check_renders(binding, fields, secrets)).files
        return {repo: sorted(recorded.get(repo) or rendered[repo]) for repo in REPOSITORIES}
    try:
        found = find_binding_files(binding)
    except IntegrationError as exc:
        raise WorkflowError(
            f"The portal could not read the repositories to find this binding's files ({exc}). "
            "Try again later.",
            code="repositories_unreadable",
        ) from None
    if found.problems:
        raise WorkflowError(
            "The portal cannot delete this imported binding's files: "
            f"{'; '.join(found.problems)}. "
            "Remove it by hand and ask an admin to mark it revoked.",
            code="files_not_deletable",
        )
    return found.deletes


def require_active(binding: Binding, *, done: str) -> None:
    """Only an active binding is revoked or changed (``done``: "revoked")."""
    if binding.state != BindingState.ACTIVE:
        raise WorkflowError(
            f"This binding is {binding.get_state_display().lower()}; only active bindings "
            f"can be {done}.",
            code="wrong_state",
        )


def _revocable(binding_id: int, requester, *, by_portal: bool, lock: bool) -> Binding:
    """The binding, if the requester may ask to revoke it now; else a WorkflowError."""
    rows = Binding.objects.select_related("cluster", "request")
    if lock:
        rows = rows.select_for_update(of=("self",))
    try:
        binding = rows.get(pk=binding_id)
    except Binding.DoesNotExist:
        raise WorkflowError("This binding does not exist.", code="not_found") from None
    if not by_portal and not can_request_revocation(requester, binding):
        raise WorkflowError(
            "Only the binding's owner, the platform team and admins can ask to revoke it.",
            code="forbidden",
        )
    require_active(binding, done="revoked")
    pending = open_revocation(binding)
    if pending is not None:
        raise WorkflowError(
            f"Revocation request #{pending.pk} for this binding is already open.",
            code="duplicate",
        )
    return binding


def request_revocation(
    *, binding_id: int, requester, reason: str, by_portal: bool = False
) -> AccessRequest:
    """Ask for a binding's access to be removed; the revocation waits for approval.

    The binding's owner, the grant's requester, approvers and admins may ask.
    ``by_portal`` is for the portal's own jobs (expiry), which ask as the
    portal's system user; no view passes it.

    The files to delete are found first, without holding the binding's row
    lock (an imported binding's are read from the repositories); the checks
    are made again under the lock, where the revocation is filed."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("Say why the access should be revoked.", code="no_reason")
    deletes = revocation_deletes(_revocable(binding_id, requester, by_portal=by_portal, lock=False))
    with transaction.atomic():
        binding = _revocable(binding_id, requester, by_portal=by_portal, lock=True)
        fields, secrets = grant_fields(binding)
        revocation = workflow.request_create(
            requester=requester,
            cluster=binding.cluster,
            justification=reason,
            secrets=secrets,
            kind=RequestKind.REVOKE,
            revokes=binding,
            **fields,
        )
        revocation.deletes = deletes
        revocation.save(update_fields=["deletes"])
        audit_record(
            actor=requester,
            action="binding.revocation_requested",
            obj=binding,
            request=revocation,
            message=reason,
            after={"deletes": deletes},
        )
    return revocation
