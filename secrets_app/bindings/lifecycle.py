"""What a request's approval and merged pull requests do to bindings.

A grant's merged pull requests create its binding; a revocation's approval
moves the binding to ``revoking``, and its merged pull requests revoke it,
together with the grant that made it. Called by the workflow (through the
request's kind, ``requests.kinds``) inside the transaction of the change, so
binding and requests never disagree.
"""

from __future__ import annotations

from django.utils import timezone

from secrets_app.events.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    PullRequestPurpose,
    RequestState,
)
from secrets_app.rendering import BindingNames
from secrets_app.requests.specs import spec_for_request
from secrets_app.requests.states import move_other_state, move_state


def binding_activate(request: AccessRequest, *, actor) -> Binding:
    """Both pull requests of a grant are merged: record its binding."""
    spec = spec_for_request(request)
    names = BindingNames.from_spec(spec)
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
        # What the merged pull requests wrote: a revocation deletes exactly this.
        files={
            p.repository: list(p.paths)
            for p in request.pull_requests.filter(purpose=PullRequestPurpose.GRANT)
        },
    )
    BindingSecret.objects.bulk_create(
        BindingSecret(binding=binding, arn=s.arn, name=s.ref.name, alias=s.alias)
        for s in spec.secrets
    )
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
    return _move(revocation, BindingState.REVOKING, actor=actor, grant_from=(RequestState.ACTIVE,))


def binding_revoke(revocation: AccessRequest, *, actor) -> Binding:
    """Both removal pull requests of a revocation are merged: the access is gone."""
    move_state(revocation, to=RequestState.REVOKED, actor=actor, action="request.revoked")
    return _move(
        revocation,
        BindingState.REVOKED,
        actor=actor,
        grant_from=(RequestState.ACTIVE, RequestState.REVOKING),
        revoked_at=timezone.now(),
    )


def _move(revocation: AccessRequest, to: str, *, actor, grant_from: tuple, **fields) -> Binding:
    """Move the binding a revocation removes, and its grant with it (the
    grant request's state is named like the binding's)."""
    binding = Binding.objects.select_for_update().get(pk=revocation.revokes_id)
    before = binding.state
    binding.state = to
    for name, value in fields.items():
        setattr(binding, name, value)
    binding.save(update_fields=["state", *fields])
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
