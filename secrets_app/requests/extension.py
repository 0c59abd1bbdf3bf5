"""Extension requests: the owner of an active binding, or a member of the
team that owns its namespace, asks for its expiry date to move later.

An extension is an ``AccessRequest`` of kind ``extend`` that points at its
binding (``extends``), carries the new date in its own ``expires_on`` and a
copy of the binding's fields and secrets (what its page shows the
approvers). It is approved under the grant's rules (the cluster's number of
approvers, never one's own request); approved, the binding takes the date
and the request ends ``extended`` (``bindings.extension``). No pull
requests: the expiry date lives in the portal only.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from secrets_app.bindings.extension import expiry_problem
from secrets_app.events.audit import audit_record
from secrets_app.models import AccessRequest, Binding, RequestKind
from secrets_app.requests import workflow
from secrets_app.requests.filing import FilingInvalid, Problem
from secrets_app.requests.permissions import binding_for_owner
from secrets_app.requests.revocation import grant_fields
from secrets_app.requests.states import OPEN_STATES, WorkflowError


def open_extension(binding: Binding) -> AccessRequest | None:
    """The extension of ``binding`` waiting for approval, if any."""
    return binding.extensions.filter(state__in=OPEN_STATES).order_by("-created_at").first()


def extendable(binding_id: int, requester, *, lock: bool = False) -> Binding:
    """The binding, if ``requester`` may ask to extend it (who, and one at a
    time); else a ``WorkflowError`` that says why. Whether the binding and
    the date allow it is ``extension_problems``: those are field errors."""
    binding = binding_for_owner(binding_id, requester, lock=lock, asking="extend")
    pending = open_extension(binding)
    if pending is not None:
        raise WorkflowError(
            f"Extension request #{pending.pk} for this binding is already waiting for "
            "approval: one at a time (its requester may cancel it).",
            code="duplicate",
        )
    return binding


def extension_problems(
    binding: Binding, expires_on: datetime.date | None, justification: str
) -> list[Problem]:
    """What is wrong with extending ``binding`` to ``expires_on``, on the
    fields (``expires_on``, ``justification``)."""
    problems = []
    if expires_on is None:
        problems.append(Problem("expires_on", "Give the new expiry date."))
    else:
        problem = expiry_problem(binding, expires_on)
        if not problem and binding.expires_on is None:
            problem = "The binding never expires: there is nothing to extend."
        elif not problem and expires_on <= binding.expires_on:
            problem = (
                f"The binding already expires on {binding.expires_on:%Y-%m-%d}: "
                "an extension picks a later date."
            )
        if problem:
            problems.append(Problem("expires_on", problem))
    if not (justification or "").strip():
        problems.append(Problem("justification", "Say why the access is still needed."))
    return problems


def request_extension(
    *, binding_id: int, requester, expires_on: datetime.date | None, justification: str
) -> AccessRequest:
    """File an extension of ``binding_id`` to ``expires_on``; it waits for the
    platform team's approval. Raises ``WorkflowError`` (who, which binding,
    one at a time) or ``FilingInvalid`` (the date, the justification)."""
    with transaction.atomic():
        binding = extendable(binding_id, requester, lock=True)
        problems = extension_problems(binding, expires_on, justification)
        if problems:
            raise FilingInvalid(problems)
        fields, secrets = grant_fields(binding)
        extension = workflow.request_create(
            requester=requester,
            cluster=binding.cluster,
            justification=justification.strip(),
            secrets=secrets,
            kind=RequestKind.EXTEND,
            extends=binding,
            expires_on=expires_on,
            **fields,
        )
        old = f"{binding.expires_on:%Y-%m-%d}" if binding.expires_on else "never"
        audit_record(
            actor=requester,
            action="binding.extension_requested",
            obj=binding,
            request=extension,
            before={"expires_on": old},
            after={"request": extension.pk, "expires_on": f"{expires_on:%Y-%m-%d}"},
            message=extension.justification,
        )
    return extension
