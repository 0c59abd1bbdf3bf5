"""The groups claim to teams and roles, at each login: the identity provider
is authoritative for the groups it manages (teams matching OIDC_TEAM_GROUPS,
the approver group, staff) and leaves every other local group alone."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from secrets_app.accounts.group_claims import apply_group_claims
from secrets_app.accounts.roles import is_admin, is_approver
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapping(settings):
    settings.PORTAL_APPROVER_GROUP = "platform"
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_APPROVER_GROUPS = ["platform-approvers"]
    settings.OIDC_ADMIN_GROUPS = ["portal-admins"]
    settings.OIDC_TEAM_GROUPS = r"team-.*"
    return settings


def log_in(user, groups) -> object:
    """What the backend does at a login, then the user as the next request sees it."""
    apply_group_claims(user, {"sub": user.username, "groups": groups})
    return type(user).objects.get(pk=user.pk)


def names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_teams_and_roles_from_the_claim(mapping):
    user = log_in(UserFactory(), ["team-payments", "team-search", "platform-approvers"])
    assert names(user) == {"team-payments", "team-search", "platform"}
    assert is_approver(user) and not is_admin(user)


def test_teams_are_created_once_and_shared(mapping):
    first = log_in(UserFactory(), ["team-payments"])
    second = log_in(UserFactory(), ["team-payments"])
    assert Group.objects.filter(name="team-payments").count() == 1
    members = Group.objects.get(name="team-payments").user_set.all()
    assert set(members) == {first, second}


def test_removed_at_the_provider_removed_here_at_the_next_login(mapping):
    user = log_in(UserFactory(), ["team-payments", "team-search", "platform-approvers"])
    user = log_in(user, ["team-search"])
    assert names(user) == {"team-search"}
    assert not is_approver(user)
    # The group itself stays: other members keep it.
    assert Group.objects.filter(name="team-payments").exists()


def test_a_claim_given_as_a_string(mapping):
    user = log_in(UserFactory(), "team-payments")
    assert names(user) == {"team-payments"}
    user = log_in(user, "platform-approvers")
    assert names(user) == {"platform"}
    assert is_approver(user)


@pytest.mark.parametrize("claims", [{}, {"groups": None}, {"groups": []}, {"groups": ""}])
def test_a_missing_or_empty_claim_removes_every_managed_group(mapping, claims):
    user = log_in(UserFactory(is_staff=True), ["team-payments", "platform-approvers"])
    apply_group_claims(user, {"sub": user.username, **claims})
    user = type(user).objects.get(pk=user.pk)
    assert names(user) == set()
    assert not is_approver(user) and not is_admin(user)


def test_local_groups_outside_the_team_pattern_are_left_alone(mapping):
    user = UserFactory()
    local = Group.objects.create(name="auditors")
    user.groups.add(local)
    user = log_in(user, ["team-payments", "contractors"])
    # "contractors" is not a team (the pattern does not match) and "auditors"
    # is a local group the provider does not manage.
    assert names(user) == {"auditors", "team-payments"}
    assert not Group.objects.filter(name="contractors").exists()
    user = log_in(user, [])
    assert names(user) == {"auditors"}


def test_the_pattern_matches_the_whole_name(mapping):
    user = log_in(UserFactory(), ["my-team-payments", "team-payments"])
    assert names(user) == {"team-payments"}


def test_the_approver_group_named_in_the_claim_is_not_a_team_as_well(mapping):
    # Every group a team (the default pattern), and the claim names both the
    # provider's approver group and the portal's own approver group.
    mapping.OIDC_TEAM_GROUPS = ".*"
    user = log_in(UserFactory(), ["platform", "platform-approvers", "portal-admins", "team-x"])
    assert names(user) == {"platform", "team-x"}
    assert Group.objects.filter(name="platform").count() == 1
    assert not Group.objects.filter(name__in=["platform-approvers", "portal-admins"]).exists()
    assert is_approver(user) and is_admin(user)


def test_naming_the_portals_approver_group_grants_nothing(mapping):
    # Only OIDC_APPROVER_GROUPS make an approver; the Django group's own name
    # in the claim is neither a role nor a team.
    mapping.OIDC_TEAM_GROUPS = ".*"
    user = log_in(UserFactory(), ["platform"])
    assert names(user) == set()
    assert not is_approver(user)


def test_the_default_pattern_makes_every_other_group_a_team(mapping):
    mapping.OIDC_TEAM_GROUPS = ".*"
    user = UserFactory()
    user.groups.add(Group.objects.create(name="made-by-hand"))
    user = log_in(user, ["engineers", "team-payments"])
    # The provider manages every group now: one it does not list is dropped.
    assert names(user) == {"engineers", "team-payments"}


def test_admin_follows_the_claim(mapping):
    user = log_in(UserFactory(), ["portal-admins"])
    assert is_admin(user) and not is_approver(user)
    assert names(user) == set()
    user = log_in(user, ["team-payments"])
    assert not is_admin(user)


def test_the_role_cache_of_the_user_object_follows(mapping):
    user = UserFactory()
    assert not is_approver(user)  # caches False on the object
    apply_group_claims(user, {"groups": ["platform-approvers"]})
    assert is_approver(user)
