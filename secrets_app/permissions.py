"""Who may do what. Roles come from groups: approvers are members of the
platform group named by PORTAL_APPROVER_GROUP; admins are staff."""

from __future__ import annotations

from django.conf import settings

from secrets_app.models import AccessRequest, Binding


def is_approver(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # Cached on the user object: templates and views ask several times a page.
    cached = getattr(user, "_portal_is_approver", None)
    if cached is None:
        cached = user.groups.filter(name=settings.PORTAL_APPROVER_GROUP).exists()
        user._portal_is_approver = cached
    return cached


def is_admin(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def can_view_request(user, request: AccessRequest) -> bool:
    # Requests hold no secret values; every engineer may follow any request,
    # as they may browse every binding.
    return user.is_authenticated and user.is_active


def can_comment(user, request: AccessRequest) -> bool:
    return request.requester_id == user.pk or is_approver(user) or is_admin(user)


def can_cancel(user, request: AccessRequest) -> bool:
    return request.requester_id == user.pk


def can_decide(user, request: AccessRequest) -> bool:
    """Whether to offer approve/reject; the workflow re-checks and explains refusals."""
    return is_approver(user) and request.requester_id != user.pk


def can_request_revocation(user, binding: Binding) -> bool:
    """The owner, whoever asked for the grant, the platform team and admins."""
    if not (user.is_authenticated and user.is_active):
        return False
    grant_requester = binding.request.requester_id if binding.request_id else None
    return user.pk in (binding.owner_id, grant_requester) or is_approver(user) or is_admin(user)
