"""A binding's expiry date moved: by an admin (the Binding admin) or by an
approved extension request (``requests.extension``). One rule for both,
``expiry_problem``; one writer, ``binding_set_expiry``, which records the
move in the audit log."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from secrets_app.events.audit import audit_record
from secrets_app.models import AccessRequest, Binding, BindingState, RequestState
from secrets_app.requests.states import WorkflowError, move_state


def expiry_problem(
    binding: Binding, expires_on: datetime.date | None, *, today: datetime.date | None = None
) -> str:
    """Why ``binding`` may not take ``expires_on`` ("" when it may): only an
    active binding's expiry moves (a revoking one is on its way out), and
    never into the past, where the expiry job would revoke it at once. None
    (never expires) is the admin's to set."""
    if binding.state != BindingState.ACTIVE:
        return (
            f"Binding #{binding.pk} is {binding.get_state_display().lower()}; only an active "
            "binding's expiry can be moved."
        )
    today = today or timezone.localdate()
    if expires_on is not None and expires_on <= today:
        return f"The date must be after today ({today:%Y-%m-%d}): on it the access is revoked."
    return ""


@transaction.atomic
def binding_set_expiry(
    *,
    binding_id: int,
    expires_on: datetime.date | None,
    actor,
    request: AccessRequest | None = None,
    how: str = "",
) -> Binding:
    """Give the (locked) binding a new expiry date and say so in the audit
    log (``binding.expiry_set``); ``how`` says who decided it (an admin, an
    approved extension)."""
    binding = Binding.objects.select_for_update().select_related("cluster").get(pk=binding_id)
    problem = expiry_problem(binding, expires_on)
    if problem:
        raise WorkflowError(problem, code="wrong_state")
    before = binding.expires_on
    binding.expires_on = expires_on
    binding.save(update_fields=["expires_on"])
    new = f"{expires_on:%Y-%m-%d}" if expires_on else "never"
    old = f"{before:%Y-%m-%d}" if before else "never"
    audit_record(
        actor=actor,
        action="binding.expiry_set",
        obj=binding,
        request=request,
        before={"expires_on": old},
        after={"expires_on": new},
        message=f"Expiry of {binding} moved from {old} to {new}{how}.",
    )
    return binding


def binding_extend(extension: AccessRequest, *, actor) -> Binding:
    """An extension request was approved (its kind's ``approved`` step, in
    the approval's transaction): its binding expires on the request's date,
    and the request ends ``extended`` (there are no pull requests to open)."""
    binding = binding_set_expiry(
        binding_id=extension.extends_id,
        expires_on=extension.expires_on,
        actor=actor,
        request=extension,
        how=f", as extension request #{extension.pk} asked",
    )
    move_state(extension, to=RequestState.EXTENDED, actor=actor, action="request.extended")
    return binding
