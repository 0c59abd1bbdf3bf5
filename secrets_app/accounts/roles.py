"""Roles come from groups: approvers are members of the platform group named
by PORTAL_APPROVER_GROUP; admins are staff."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group


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


def ensure_approver_group(**_signal_kwargs) -> None:
    """The approver group exists from the first migration on (a post_migrate
    receiver), so that admins can add people to it."""
    Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)
