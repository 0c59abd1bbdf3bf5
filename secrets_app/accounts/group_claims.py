"""The identity provider's groups claim to teams and roles.

The claim named by OIDC_GROUPS_CLAIM lists the user's groups. At every login
the identity provider is authoritative for the groups it manages, so leaving
a group there removes the team or role here at the next login:

- teams: the claimed groups whose names match OIDC_TEAM_GROUPS (a regular
  expression, matched against the whole name) become exactly the user's
  Django groups among those the expression matches; missing ones are created.
  Local groups the expression does not match are left alone.
- approver: a claimed group in OIDC_APPROVER_GROUPS puts the user in the
  Django group PORTAL_APPROVER_GROUP.
- admin: a claimed group in OIDC_ADMIN_GROUPS makes the user staff.

The role groups (approver and admin groups, and PORTAL_APPROVER_GROUP itself)
never become teams: each is a role, granted by its own rule above.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction


def claimed_groups(claims: dict) -> set[str]:
    """The group names in the claim; a provider may send one group as a string."""
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    return {group for group in groups if isinstance(group, str) and group}


def _role_groups() -> set[str]:
    return {
        settings.PORTAL_APPROVER_GROUP,
        *settings.OIDC_APPROVER_GROUPS,
        *settings.OIDC_ADMIN_GROUPS,
    }


def is_team_group(name: str) -> bool:
    """Whether the provider manages this group name as a team."""
    return name not in _role_groups() and re.fullmatch(settings.OIDC_TEAM_GROUPS, name) is not None


def sync_teams(user, groups: set[str]) -> None:
    wanted = {name for name in groups if is_team_group(name)}
    current = {group.name: group for group in user.groups.all() if is_team_group(group.name)}
    gone = [group for name, group in current.items() if name not in wanted]
    if gone:
        user.groups.remove(*gone)
    added = [Group.objects.get_or_create(name=name)[0] for name in sorted(wanted - set(current))]
    if added:
        user.groups.add(*added)


def sync_roles(user, groups: set[str]) -> None:
    approver_group, _ = Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)
    if groups & set(settings.OIDC_APPROVER_GROUPS):
        user.groups.add(approver_group)
    else:
        user.groups.remove(approver_group)
    is_staff = bool(groups & set(settings.OIDC_ADMIN_GROUPS))
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def apply_group_claims(user, claims: dict) -> None:
    groups = claimed_groups(claims)
    sync_teams(user, groups)
    sync_roles(user, groups)
    # roles.is_approver caches its answer on the user object.
    user.__dict__.pop("_portal_is_approver", None)
