"""The whole single sign-on against a real OpenID provider on loopback,
without a browser: Django's test client is the portal's side of the browser,
requests the provider's side. The authorization code flow, the RS256 id token
checked against the provider's JWKS, userinfo, the groups claim to teams and
roles, and the logout through the provider's end-session endpoint."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.test import Client
from django.urls import reverse

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.accounts.sso import GroupsClaimOIDCBackend
from tests.support.oidc_provider import running_provider, serving_json

pytestmark = pytest.mark.django_db

ERIN = {
    "email": "erin@example.com",
    "preferred_username": "erin",
    "given_name": "Erin",
    "family_name": "Example",
}


def sso_login(client: Client, sub: str, next_page: str = "/"):
    """Start at the portal, log in as ``sub`` on the provider's form, and
    come back with the code; returns the portal's answer to the callback."""
    start = client.get(reverse("oidc_authentication_init"), {"next": next_page})
    assert start.status_code == 302, start
    authorize = start["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["response_type"] == ["code"] and query["nonce"][0]
    # The provider's login form: the subject to authorize, posted back to itself.
    form = requests.get(authorize, timeout=10)
    assert form.status_code == 200 and 'name="sub"' in form.text
    granted = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert granted.status_code == 302, granted.text
    callback = urlsplit(granted.headers["Location"])
    assert callback.path == reverse("oidc_authentication_callback")
    assert parse_qs(callback.query)["state"] == query["state"]
    return client.get(f"{callback.path}?{callback.query}")


def test_login_teams_roles_and_logout(sso_settings, oidc_provider):
    oidc_provider.set_user("erin", {**ERIN, "groups": ["team-payments", "platform-approvers"]})
    client = Client()

    # A portal page sends an anonymous visitor to the login page.
    assert client.get("/bindings/")["Location"].startswith(reverse("login"))
    response = sso_login(client, "erin", next_page="/bindings/")
    assert response.status_code == 302 and response["Location"] == "/bindings/"
    page = client.get("/bindings/")
    assert page.status_code == 200
    assert "erin · platform" in page.content.decode()

    erin = get_user_model().objects.get(username="erin")
    assert erin.email == "erin@example.com" and erin.get_full_name() == "Erin Example"
    assert set(erin.groups.values_list("name", flat=True)) == {"team-payments", "platform"}
    assert is_approver(erin) and not is_admin(erin)
    # The id token came signed RS256 and was checked against the JWKS.
    id_token = client.session["oidc_id_token"]
    assert jwt.get_unverified_header(id_token)["alg"] == "RS256"

    # Logout: the portal's session ends and the browser goes to the
    # provider's end-session endpoint with the id token as a hint.
    response = client.post(reverse("oidc_logout"))
    assert response.status_code == 302
    end_session = urlsplit(response["Location"])
    assert response["Location"].startswith(oidc_provider.discovery["end_session_endpoint"])
    hints = parse_qs(end_session.query)
    assert hints["id_token_hint"] == [id_token]
    assert hints["post_logout_redirect_uri"] == ["http://testserver" + reverse("login")]
    assert "_auth_user_id" not in client.session
    assert client.get("/bindings/")["Location"].startswith(reverse("login"))

    # The provider removes the approver group: the role is gone at the next login.
    oidc_provider.set_user("erin", {**ERIN, "groups": ["team-payments", "team-search"]})
    client = Client()
    assert sso_login(client, "erin")["Location"] == "/"
    erin = get_user_model().objects.get(username="erin")
    assert set(erin.groups.values_list("name", flat=True)) == {"team-payments", "team-search"}
    assert not is_approver(erin)
    assert "erin · platform" not in client.get("/bindings/").content.decode()
    assert get_user_model().objects.filter(email="erin@example.com").count() == 1


def test_an_id_token_checked_against_another_providers_keys_is_refused(
    sso_settings, oidc_provider, caplog
):
    """The keys come from the configured JWKS only: the same login, with the
    portal trusting another provider's keys, logs nobody in."""
    oidc_provider.set_user("erin", {**ERIN, "groups": ["platform-approvers"]})
    with running_provider() as other:
        sso_settings.OIDC_OP_JWKS_ENDPOINT = other.discovery["jwks_uri"]
        response = sso_login(Client(), "erin")
    assert response.status_code == 400
    assert "JWS token verification failed" in caplog.text
    assert not get_user_model().objects.filter(username="erin").exists()


def test_a_token_signed_otherwise_than_configured_is_refused(sso_settings, oidc_provider, caplog):
    """No algorithm confusion: a portal set up for HS256 (the client secret as
    the key) refuses the provider's RS256 token rather than trying it."""
    sso_settings.OIDC_RP_SIGN_ALGO = "HS256"
    oidc_provider.set_user("erin", {**ERIN, "groups": ["platform-approvers"]})
    response = sso_login(Client(), "erin")
    assert response.status_code == 400
    assert "does not match the client's OIDC_RP_SIGN_ALGO" in caplog.text
    assert not get_user_model().objects.filter(username="erin").exists()


def test_an_id_token_issued_to_another_client_is_refused(sso_settings, oidc_provider):
    """A genuine id token of the trusted provider, signed with its key, but
    issued to another client (token substitution) logs nobody in: the
    audience must be the portal's client id."""
    oidc_provider.set_user("erin", {**ERIN, "groups": ["platform-approvers"]})
    found = oidc_provider.discovery
    redirect_uri = "http://127.0.0.1/elsewhere/callback"
    granted = requests.post(
        found["authorization_endpoint"],
        params={
            "client_id": "another-client",
            "response_type": "code",
            "scope": "openid email",
            "redirect_uri": redirect_uri,
            "nonce": "n-0123456789",
            "state": "s",
        },
        data={"sub": "erin"},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(granted.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        found["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": "another-client",
            "client_secret": "its-secret",
        },
        timeout=10,
    ).json()
    id_token = tokens["id_token"]
    assert jwt.decode(id_token, options={"verify_signature": False})["aud"] == ["another-client"]

    backend = GroupsClaimOIDCBackend()
    with pytest.raises(SuspiciousOperation, match="another client"):
        backend.verify_token(id_token, nonce="n-0123456789")
    # The control: a portal whose client id is that audience takes the token.
    sso_settings.OIDC_RP_CLIENT_ID = "another-client"
    assert GroupsClaimOIDCBackend().verify_token(id_token, nonce="n-0123456789")["sub"] == "erin"


def test_a_password_login_logs_out_without_the_provider(sso_settings, requester):
    """With SSO on, the logout button posts to the SSO logout: a session that
    did not come from the provider just ends, on the login page."""
    client = Client()
    client.force_login(requester)
    assert 'action="/oidc/logout/"' in client.get("/bindings/").content.decode()
    response = client.post(reverse("oidc_logout"))
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_token_without_kid_needs_a_key_set_of_one(sso_settings, oidc_provider, caplog):
    """The provider names no key in its tokens (allowed while its set holds
    one key); with two keys published the portal cannot tell which and
    refuses rather than try each."""
    with running_provider() as other:
        keys = [
            requests.get(provider.discovery["jwks_uri"], timeout=10).json()["keys"][0]
            for provider in (oidc_provider, other)
        ]
    with serving_json({"keys": keys}) as jwks_url:
        sso_settings.OIDC_OP_JWKS_ENDPOINT = jwks_url
        oidc_provider.set_user("erin", {**ERIN, "groups": ["platform-approvers"]})
        response = sso_login(Client(), "erin")
    assert response.status_code == 400
    assert "names no key and the provider has several" in caplog.text
    assert not get_user_model().objects.filter(username="erin").exists()
