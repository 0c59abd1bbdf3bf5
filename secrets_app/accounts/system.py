"""The portal's own user, in whose name it asks for things itself (the
expiry job's revocations)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

#: The user the portal acts as when it asks for something itself. Inactive,
#: without a usable password: nobody can log in as it.
SYSTEM_USERNAME = "secrets-portal"


def system_user():
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "Secrets", "last_name": "Portal"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
