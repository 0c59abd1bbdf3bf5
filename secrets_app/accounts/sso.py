"""Single sign-on: map the identity provider's groups claim to portal roles.

The claim named by OIDC_GROUPS_CLAIM lists the user's groups; members of
OIDC_APPROVER_GROUPS join the Django approver group, members of
OIDC_ADMIN_GROUPS become staff. Both are re-evaluated at every login so that
leaving a group in the identity provider removes the role here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


def apply_group_claims(user, claims: dict) -> None:
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    approver_group, _ = Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)
    if set(groups) & set(settings.OIDC_APPROVER_GROUPS):
        user.groups.add(approver_group)
    else:
        user.groups.remove(approver_group)
    is_staff = bool(set(groups) & set(settings.OIDC_ADMIN_GROUPS))
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


class GroupsClaimOIDCBackend(OIDCAuthenticationBackend):
    def create_user(self, claims):
        user = super().create_user(claims)
        user.username = claims.get("preferred_username") or user.username
        user.first_name = claims.get("given_name", "")
        user.last_name = claims.get("family_name", "")
        user.save()
        apply_group_claims(user, claims)
        return user

    def update_user(self, user, claims):
        apply_group_claims(user, claims)
        return user
