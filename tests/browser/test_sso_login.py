"""Single sign-on in a real browser against a real OpenID provider on
loopback (oidc-provider-mock): the authorization code flow, the RS256 id
token checked against the provider's JWKS, userinfo, the groups claim to
teams and roles, and the logout through the provider's end-session page.
Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from secrets_app.accounts.roles import is_approver
from tests.support.oidc_provider import oidc_provider, sso_settings

__all__ = ["oidc_provider", "sso_settings"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ERIN = {"email": "erin@example.com", "preferred_username": "erin", "name": "Erin Example"}


@pytest.fixture
def page(page):
    """The provider's pages ask a CDN for their stylesheet: nothing leaves loopback."""

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_loopback)
    return page


def sign_in_at_the_provider(page, oidc_provider, sub: str) -> None:
    page.get_by_role("link", name="Log in with single sign-on").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    assert page.url.startswith(oidc_provider.discovery["authorization_endpoint"])
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def groups_of(username: str) -> set[str]:
    user = get_user_model().objects.get(username=username)
    return set(user.groups.values_list("name", flat=True))


def test_sso_login_teams_roles_and_logout(page, live_server, sso_settings, oidc_provider, shots):
    page.set_default_timeout(20_000)
    oidc_provider.set_user("erin", {**ERIN, "groups": ["team-payments", "platform-approvers"]})
    who = page.locator(".who")
    approvals = page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals")

    # A portal page sends the visitor to log in; single sign-on goes to the
    # provider and comes back, logged in, to the page asked for.
    page.goto(f"{live_server.url}/bindings/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    sign_in_at_the_provider(page, oidc_provider, "erin")
    expect(page.get_by_role("heading", name="Bindings")).to_be_visible()
    assert page.url == f"{live_server.url}/bindings/"
    expect(who).to_contain_text("erin · platform")
    expect(approvals).to_be_visible()
    shots(page, "sso-logged-in-approver")
    assert groups_of("erin") == {"team-payments", "platform"}
    assert is_approver(get_user_model().objects.get(username="erin"))

    # Logging out ends the portal's session and then the provider's.
    who.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    assert page.url.startswith(oidc_provider.discovery["end_session_endpoint"])
    shots(page, "sso-provider-end-session")
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/bindings/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    # The provider takes the approver group away: the role goes at the next login.
    oidc_provider.set_user("erin", {**ERIN, "groups": ["team-payments"]})
    sign_in_at_the_provider(page, oidc_provider, "erin")
    expect(page.get_by_role("heading", name="Bindings")).to_be_visible()
    expect(who).to_contain_text("erin")
    expect(who).not_to_contain_text(re.compile("platform"))
    expect(approvals).to_have_count(0)
    shots(page, "sso-logged-in-requester")
    assert groups_of("erin") == {"team-payments"}
    assert get_user_model().objects.filter(email="erin@example.com").count() == 1

    who.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
