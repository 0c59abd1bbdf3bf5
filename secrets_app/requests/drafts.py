"""Editing a draft: its requester (or an admin) saves new values onto the
same request. The values come checked by the filing service
(``filing.request_edit``); here they replace the draft's fields and all of
its secrets in one transaction, with the request row locked and its state
read again, so an edit never lands on a request submitted meanwhile and a
refused edit leaves the draft as it was. A draft holds no claims (it takes
them when submitted), so nothing else moves.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from secrets_app.events.audit import audit_record
from secrets_app.models import AccessRequest, Cluster, RequestKind, RequestState, SecretGrant
from secrets_app.rendering import name_rules
from secrets_app.requests import workflow
from secrets_app.requests.permissions import can_edit_draft
from secrets_app.requests.states import WorkflowError


def editable_draft(
    request_id: int, editor, *, lock: bool = False, submitting: bool = False
) -> AccessRequest:
    """The draft ``editor`` may edit (and submit, when ``submitting``: its
    requester only, as ``workflow.request_submit`` says); else a
    ``WorkflowError`` that says why (not_found, forbidden, or wrong_state
    for a request no longer a draft)."""
    rows = AccessRequest.objects.select_related("cluster", "requester")
    if lock:
        rows = rows.select_for_update(of=("self",))
    request = rows.filter(pk=request_id).first()
    if request is None:
        raise WorkflowError("This request does not exist.", code="not_found")
    if not can_edit_draft(editor, request):
        raise WorkflowError(
            "Only the requester and admins can edit this request.", code="forbidden"
        )
    if request.state != RequestState.DRAFT or request.kind != RequestKind.GRANT:
        raise WorkflowError(
            f"Request #{request.pk} is {request.get_state_display().lower()}; only drafts "
            "can be edited. Comment on it instead, or copy it into a new request once it "
            "is rejected or cancelled.",
            code="wrong_state",
        )
    if submitting and request.requester_id != editor.pk:
        raise WorkflowError("Only the requester can submit this request.", code="forbidden")
    return request


@transaction.atomic
def draft_replace(
    *,
    request_id: int,
    editor,
    secrets: Iterable[dict[str, Any]],
    submit: bool = False,
    **filed: Any,
) -> AccessRequest:
    """Replace a draft's filed fields (``AccessRequest.FILED_FIELDS``) and
    secrets with checked values; submit it too when asked (the requester
    only, as ``workflow.request_submit`` says)."""
    unknown = set(filed) - set(AccessRequest.FILED_FIELDS)
    if unknown:
        raise TypeError(f"draft_replace() got fields it does not know: {sorted(unknown)}")
    request = editable_draft(request_id, editor, lock=True, submitting=submit)
    cluster: Cluster = filed.get("cluster", request.cluster)
    if not cluster.active:
        raise WorkflowError(f"Cluster {cluster.name} takes no new requests.", code="inactive")
    before_fields = _values(request)
    before_secrets = _secrets(request.secrets.order_by("position"))
    for name, value in filed.items():
        setattr(request, name, value)
    request.save(update_fields=[*filed, "updated_at"])
    grants = [SecretGrant(request=request, position=i, **s) for i, s in enumerate(secrets)]
    if not grants:
        raise WorkflowError("A request needs at least one secret.", code="no_secrets")
    # All of them go: a secret left out of the edit is removed, and the
    # unique alias per request holds for the new list alone.
    request.secrets.all().delete()
    SecretGrant.objects.bulk_create(grants)
    after_fields = _values(request)
    changed = sorted(n for n in after_fields if after_fields[n] != before_fields[n])
    after_secrets = _secrets(grants)
    audit_record(
        actor=editor,
        action="request.edited",
        obj=request,
        request=request,
        before={
            "fields": {n: before_fields[n] for n in changed},
            **({"secrets": before_secrets} if before_secrets != after_secrets else {}),
        },
        after={
            "fields": {n: after_fields[n] for n in changed},
            **({"secrets": after_secrets} if before_secrets != after_secrets else {}),
        },
    )
    if submit:
        request = workflow.request_submit(request_id=request.pk, actor=editor)
    return request


def _values(request: AccessRequest) -> dict[str, Any]:
    """The filed fields as the audit log's JSON keeps them."""
    values = {}
    for name in AccessRequest.FILED_FIELDS:
        value = getattr(request, name)
        if isinstance(value, Cluster):
            value = value.name
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        values[name] = value
    return values


def _secrets(grants: Iterable[SecretGrant]) -> list[dict[str, Any]]:
    return [{name: getattr(g, name) for name in SecretGrant.FILED_FIELDS} for g in grants]


def filed_input(request: AccessRequest) -> dict[str, Any]:
    """A saved request as the filing service's input (what the API's POST
    takes): the base a partial edit of a draft changes."""
    values = request.filed()
    values["cluster"] = request.cluster.name
    values["secrets"] = [
        {**g.filed(), "cross_account": crosses_account(g.secret, request.cluster)}
        for g in request.secrets.order_by("position")
    ]
    return values


def crosses_account(secret: str, cluster: Cluster) -> bool:
    """Whether a saved secret is in another account than its cluster: its
    "another AWS account" box was ticked when it was filed, and the rules
    ask for it again each time the request is checked."""
    try:
        ref = name_rules.parse_secret_ref(secret)
    except name_rules.SecretRefError:
        return False
    return ref.is_arn and ref.account != cluster.aws_account_id
