"""Who hears of what: approvers are the platform group (as in
``permissions.is_approver``); people without an email address are skipped."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model


def approvers(*, exclude: Iterable[int | None] = ()) -> list:
    skip = [pk for pk in exclude if pk is not None]
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=settings.PORTAL_APPROVER_GROUP)
        .exclude(pk__in=skip)
        .order_by("username")
        .distinct()
    )


def emails(users: Iterable) -> list[str]:
    """Unique addresses of active users, in order."""
    seen: dict[str, None] = {}
    for user in users:
        if user is not None and user.is_active and user.email:
            seen.setdefault(user.email.strip(), None)
    return list(seen)
