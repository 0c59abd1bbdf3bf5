"""Revoking a binding: asked for, approved under the same rules as a grant,
carried out by pull requests that remove what the grant added.

A revocation is an ``AccessRequest`` of kind ``revoke`` that points at the
binding (``revokes``) and carries a copy of the grant's fields and secrets,
so that rendering it gives exactly the files the grant wrote: those are the
paths its pull requests delete (the deploy manifests and the IAM role's
Terraform file). Approval, rejection, comments, the pull-request task,
retries and the audit trail are the grant's own, in ``workflow``.

Binding and request states move together (``bindings.lifecycle``, called
through the revocation's kind, ``kinds.REVOKE``):

- revocation approved: binding ``revoking``, the grant request ``revoking``;
- both removal pull requests merged: binding ``revoked`` (with the time), the
  grant request and the revocation ``revoked``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from secrets_app.events.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingState,
    RequestKind,
)
from secrets_app.rendering import BindingSpec, SpecInvalid
from secrets_app.rendering.name_rules import DEFAULT_MOUNT_PATH
from secrets_app.requests import workflow
from secrets_app.requests.permissions import can_request_revocation
from secrets_app.requests.specs import spec_data
from secrets_app.requests.states import OPEN_STATES, WorkflowError


def open_revocation(binding: Binding) -> AccessRequest | None:
    """The revocation of this binding still in progress, if any."""
    return binding.revocations.filter(state__in=OPEN_STATES).order_by("-created_at").first()


def _grant_fields(binding: Binding) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The binding fields and secrets that render the binding's files.

    A portal binding copies its grant exactly (same role name, same secrets
    and sync settings, hence the same paths). An imported binding has no
    grant: its names are taken from what was found in the cluster."""
    grant = binding.request
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


def _check_renders(binding: Binding, fields: dict[str, Any], secrets: list[dict]) -> None:
    """Refuse, with the reasons, a revocation whose files cannot be named."""
    try:
        BindingSpec.from_dict(spec_data(fields, secrets, cluster=binding.cluster))
    except SpecInvalid as invalid:
        problems = "; ".join(str(p) for p in invalid.problems)
        raise WorkflowError(
            f"The portal cannot name this binding's files to remove them ({problems}). "
            "Remove it by hand and ask an admin to mark it revoked.",
            code="unrenderable",
        ) from None


@transaction.atomic
def request_revocation(
    *, binding_id: int, requester, reason: str, by_portal: bool = False
) -> AccessRequest:
    """Ask for a binding's access to be removed; the revocation waits for approval.

    The binding's owner, the grant's requester, approvers and admins may ask.
    ``by_portal`` is for the portal's own jobs (expiry), which ask as the
    portal's system user; no view passes it."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("Say why the access should be revoked.", code="no_reason")
    try:
        binding = (
            Binding.objects.select_for_update(of=("self",))
            .select_related("cluster", "request")
            .get(pk=binding_id)
        )
    except Binding.DoesNotExist:
        raise WorkflowError("This binding does not exist.", code="not_found") from None
    if not by_portal and not can_request_revocation(requester, binding):
        raise WorkflowError(
            "Only the binding's owner, the platform team and admins can ask to revoke it.",
            code="forbidden",
        )
    if binding.state != BindingState.ACTIVE:
        raise WorkflowError(
            f"This binding is {binding.get_state_display().lower()}; only active bindings "
            "can be revoked.",
            code="wrong_state",
        )
    pending = open_revocation(binding)
    if pending is not None:
        raise WorkflowError(
            f"Revocation request #{pending.pk} for this binding is already open.",
            code="duplicate",
        )
    fields, secrets = _grant_fields(binding)
    _check_renders(binding, fields, secrets)
    revocation = workflow.request_create(
        requester=requester,
        cluster=binding.cluster,
        justification=reason,
        secrets=secrets,
        kind=RequestKind.REVOKE,
        revokes=binding,
        **fields,
    )
    audit_record(
        actor=requester,
        action="binding.revocation_requested",
        obj=binding,
        request=revocation,
        message=reason,
    )
    return revocation
