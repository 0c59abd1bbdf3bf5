"""What a request's approval and merged pull requests do to bindings.

A grant's merged pull requests create its binding; a revocation's approval
moves the binding to ``revoking``. Its merged pull requests only say the
files are gone from the repositories: the binding is revoked, together with
the grant that made it and the revocation, once a health sweep of its
cluster and an AWS check find nothing of it left (``binding_removal_checked``,
after each sweep). Called by the workflow (through the request's kind,
``requests.kinds``) and the removal check, inside the transaction of the
change, so binding and requests never disagree.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from secrets_app.events.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    ClusterSweep,
    PullRequestPurpose,
    RequestState,
)
from secrets_app.ownership import claims
from secrets_app.rendering import BindingNames
from secrets_app.requests.specs import spec_for_request
from secrets_app.requests.states import lock_request, move_other_state, move_state


def binding_activate(request: AccessRequest, *, actor) -> Binding:
    """Both pull requests of a grant are merged: record its binding."""
    spec = spec_for_request(request)
    names = BindingNames.from_spec(spec)
    pulls = list(request.pull_requests.filter(purpose=PullRequestPurpose.GRANT))
    binding = Binding.objects.create(
        request=request,
        cluster=request.cluster,
        namespace=names.namespace,
        service=request.service,
        service_account=names.service_account,
        secret_provider_class=names.secret_provider_class,
        role_arn=names.role_arn,
        workload_kind=names.workload_kind,
        workload_name=names.workload_name,
        synced_secret_names=list(names.secret_names),
        source=BindingSource.PORTAL,
        owner=request.requester,
        expires_on=request.expires_on,
        # What the merged pull requests wrote: a revocation deletes exactly
        # this, and a fleet upgrade tells hand edits from it.
        files={p.repository: list(p.paths) for p in pulls},
        file_hashes={p.repository: dict(p.file_hashes) for p in pulls},
    )
    BindingSecret.objects.bulk_create(
        BindingSecret(binding=binding, arn=s.arn, name=s.ref.name, alias=s.alias)
        for s in spec.secrets
    )
    # The role, ServiceAccount and files the grant claimed are the binding's now.
    claims.hand_to_binding(request, binding)
    move_state(request, to=RequestState.ACTIVE, actor=actor, action="request.active")
    audit_record(
        actor=actor,
        action="binding.created",
        obj=binding,
        request=request,
        after={"role_arn": binding.role_arn, "service_account": binding.service_account},
    )
    return binding


def binding_mark_revoking(revocation: AccessRequest, *, actor) -> Binding:
    """A revocation was approved: the binding is on its way out."""
    binding = _lock_binding(revocation.revokes_id)
    return _move(binding, BindingState.REVOKING, revocation, actor=actor, grant_from=ACTIVE_GRANT)


def binding_removal_merged(revocation: AccessRequest, *, actor) -> Binding:
    """Both removal pull requests of a revocation are merged: the files are
    gone from the repositories, not yet from the cluster and AWS (Argo CD and
    the Terraform pipeline still have to apply the deletion). The binding
    stays ``revoking``, and the revocation with it ("merged, waiting for the
    cluster / AWS"), until ``binding_removal_checked`` finds nothing left."""
    binding = _lock_binding(revocation.revokes_id)
    if binding.state == BindingState.REVOKED:
        # Revoked some other way meanwhile (an admin): nothing to wait for.
        move_state(revocation, to=RequestState.REVOKED, actor=actor, action="request.revoked")
        return binding
    move_state(
        revocation,
        to=RequestState.REVOKING,
        actor=actor,
        action="request.removal_merged",
        message="Both removal pull requests are merged; waiting for a health sweep and an "
        "AWS check to find nothing of the binding left.",
    )
    if binding.state == BindingState.ACTIVE:
        binding = _move(
            binding, BindingState.REVOKING, revocation, actor=actor, grant_from=ACTIVE_GRANT
        )
    binding.removal_merged_at = timezone.now()
    binding.save(update_fields=["removal_merged_at"])
    audit_record(
        actor=actor,
        action="binding.removal_merged",
        obj=binding,
        request=revocation,
        after={"removal_merged_at": binding.removal_merged_at.isoformat()},
    )
    return binding


@transaction.atomic
def binding_removal_checked(*, binding_id: int, aws: list[dict[str, str]]) -> Binding | None:
    """An AWS check after a health sweep found ``aws`` still there of a
    binding whose removal merged (``[]``: nothing). Revoke it when nothing is
    left anywhere: no ServiceAccount, SecretProviderClass or pod mounting it
    at a sweep that started after the merge (the ``cluster`` part of its
    ``leftovers``, written by the sweep), and nothing in AWS. Otherwise
    record what is still there. None when the binding is gone."""
    revocation = (
        AccessRequest.objects.filter(revokes_id=binding_id, state=RequestState.REVOKING)
        .order_by("-created_at")
        .values_list("pk", flat=True)
        .first()
    )
    # Every writer locks the revocation before its binding (``workflow``).
    request = lock_request(revocation) if revocation is not None else None
    binding = Binding.objects.select_for_update().filter(pk=binding_id).first()
    if binding is None or binding.state != BindingState.REVOKING:
        return binding
    if binding.removal_merged_at is None:
        return binding
    cluster = [entry for entry in binding.leftovers if entry.get("where") == "cluster"]
    leftovers = [*cluster, *aws]
    if not leftovers and swept_since(binding.cluster_id, binding.removal_merged_at):
        if request is not None:
            move_state(request, to=RequestState.REVOKED, actor=None, action="request.revoked")
        return _move(
            binding,
            BindingState.REVOKED,
            request,
            actor=None,
            grant_from=(RequestState.ACTIVE, RequestState.REVOKING),
            revoked_at=timezone.now(),
            leftovers=[],
        )
    if leftovers != binding.leftovers:
        binding.leftovers = leftovers
        binding.save(update_fields=["leftovers"])
    return binding


def swept_since(cluster_id: int, when) -> bool:
    """Whether the latest sweep of the cluster that could read it started at
    or after ``when``: its findings (``leftovers``, written in the same
    transaction as the sweep's record) describe the cluster after ``when``."""
    latest = (
        ClusterSweep.objects.filter(cluster_id=cluster_id, ok=True)
        .order_by("-started_at", "-id")
        .values_list("started_at", flat=True)
        .first()
    )
    return latest is not None and latest >= when


ACTIVE_GRANT = (RequestState.ACTIVE,)


def _lock_binding(binding_id: int) -> Binding:
    return Binding.objects.select_for_update().get(pk=binding_id)


def _move(
    binding: Binding,
    to: str,
    revocation: AccessRequest | None,
    *,
    actor,
    grant_from: tuple,
    **fields,
) -> Binding:
    """Move a (locked) binding, and its grant with it (the grant request's
    state is named like the binding's), on behalf of ``revocation``."""
    before = binding.state
    binding.state = to
    for name, value in fields.items():
        setattr(binding, name, value)
    binding.save(update_fields=["state", *fields])
    if to == BindingState.REVOKED:
        # Gone from the cluster and AWS: its role, files and ServiceAccount are free.
        claims.release_binding(binding)
    grant = binding.request
    if grant is not None and grant.state in grant_from:
        move_other_state(grant, RequestState(to), actor=actor, action=f"request.{to}")
    audit_record(
        actor=actor,
        action=f"binding.{to}",
        obj=binding,
        request=revocation,
        before={"state": before},
        after={"state": to},
    )
    return binding
