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
    binding = Binding.objects.select_for_update().get(pk=revocation.revokes_id)
    binding.state = BindingState.REVOKING
    binding.save(update_fields=["state"])
    grant = binding.request
    if grant is not None and grant.state == RequestState.ACTIVE:
        move_other_state(grant, RequestState.REVOKING, actor=actor, action="request.revoking")
    audit_record(
        actor=actor,
        action="binding.revoking",
        obj=binding,
        request=revocation,
        before={"state": BindingState.ACTIVE},
        after={"state": BindingState.REVOKING},
    )
    return binding


def binding_revoke(revocation: AccessRequest, *, actor) -> Binding:
    """Both removal pull requests of a revocation are merged: the access is gone."""
    binding = Binding.objects.select_for_update().get(pk=revocation.revokes_id)
    before = binding.state
    binding.state = BindingState.REVOKED
    binding.revoked_at = timezone.now()
    binding.save(update_fields=["state", "revoked_at"])
    grant = binding.request
    if grant is not None and grant.state in (RequestState.ACTIVE, RequestState.REVOKING):
        move_other_state(grant, RequestState.REVOKED, actor=actor, action="request.revoked")
    move_state(revocation, to=RequestState.REVOKED, actor=actor, action="request.revoked")
    audit_record(
        actor=actor,
        action="binding.revoked",
        obj=binding,
        request=revocation,
        before={"state": before},
        after={"state": BindingState.REVOKED},
    )
    return binding
