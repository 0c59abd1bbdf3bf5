"""What each request claims (``ownership.claims``), by its kind: a grant
its role, ServiceAccount and files; a revocation its binding; a change its
binding, and the files it writes, which must be its binding's or nobody's.

Claims are taken when a request is submitted, in the transaction that
submits it, and confirmed again by the pull-request task under the request's
lock before any file is written: a request filed before claims existed, or
one whose files moved (another layout), cannot write over what another
binding holds."""

from __future__ import annotations

from django.db import transaction

from secrets_app.integrations.errors import PermanentError
from secrets_app.models import AccessRequest, RequestKind
from secrets_app.ownership import claims
from secrets_app.rendering import SpecInvalid
from secrets_app.requests.specs import spec_for_request
from secrets_app.requests.states import lock_request


def wanted(request: AccessRequest) -> list[claims.Wanted]:
    if request.kind == RequestKind.EXTEND:
        # It writes no file and names nothing: it moves a date.
        return []
    if request.kind == RequestKind.REVOKE:
        return claims.wanted_for_binding_change(request.revokes)
    try:
        spec = spec_for_request(request)
    except SpecInvalid:
        if request.kind == RequestKind.CHANGE:
            # The pull-request task refuses it when it renders.
            return claims.wanted_for_binding_change(request.changes)
        # A draft that does not render yet (the API files drafts without
        # every secret): its names are claimed now, its files when the
        # pull-request task renders them (and refuses the request if it
        # cannot).
        return claims.wanted_for_names(request)
    grant = claims.wanted_for_grant(request.cluster, spec, role_typed=bool(request.role_name))
    if request.kind == RequestKind.CHANGE:
        # Its binding, and everything the binding's files become: the role,
        # the ServiceAccount and every path it writes, which must be the
        # binding's already or nobody's (a new path of the re-render).
        return claims.wanted_for_binding_change(request.changes) + grant
    return grant


def claim(request: AccessRequest) -> None:
    """Take what a (locked) request needs; raises ``claims.ClaimHeld``. A
    change takes what is new to its binding; what the binding holds stays
    the binding's."""
    for_binding = request.changes if request.kind == RequestKind.CHANGE else None
    claims.take(wanted(request), request=request, for_binding=for_binding)
    if request.kind == RequestKind.REVOKE and request.deletes:
        # A revocation deletes only files its binding holds: an imported
        # binding's files, found in the repositories, become its own here,
        # unless another binding or request holds them.
        claims.take(claims.wanted_paths(request.cluster, request.deletes), binding=request.revokes)


@transaction.atomic
def confirm(request_id: int) -> None:
    """The pull-request task, before it writes: the request still holds
    everything it is about to write. Raises ``PermanentError`` naming the
    holder (the request fails with that reason) when another one does."""
    request = lock_request(request_id)
    try:
        claim(request)
    except claims.ClaimHeld as held:
        raise PermanentError(f"refused: {held}", system="portal") from None
