"""Login throttling (django-axes): wrong passwords for one username from one
address lock that pair out for a cool-off, with a clear page; a success
resets the count; sessions made otherwise (force_login, tokens) are not
affected."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.support.subprocesses import run_python

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def login(username: str, password: str, *, ip: str = "10.0.0.1", client: Client | None = None):
    client = client or Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


def fail(username: str, times: int, *, ip: str = "10.0.0.1") -> list[int]:
    return [login(username, "wrong", ip=ip)[1].status_code for _ in range(times)]


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_limit_locks_the_username_out_with_a_clear_page(requester, caplog):
    limit = django_settings.AXES_FAILURE_LIMIT
    assert limit == 5
    statuses = fail("alice", limit)
    # The first failures show the form again; the one that reaches the limit
    # is answered with the lockout page.
    assert statuses[:-1] == [200] * (limit - 1) and statuses[-1] == 429
    client, response = login("alice", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed logins" in text and "Try again in 0:15:00" in text
    assert not logged_in(client)
    # Operators see the lockout in the logs (axes logs at WARNING).
    assert any(r.name.startswith("axes") and r.levelname == "WARNING" for r in caplog.records)


def test_other_usernames_and_addresses_are_not_locked(requester, other_user):
    fail("alice", 5)
    assert logged_in(login("mallory", PASSWORD)[0])
    # The pair is locked, not the address: alice from elsewhere may log in.
    assert logged_in(login("alice", PASSWORD, ip="10.0.0.2")[0])


def test_a_successful_login_resets_the_count(requester):
    fail("alice", 4)
    client, response = login("alice", PASSWORD)
    assert response.status_code == 302 and logged_in(client)
    assert fail("alice", 4) == [200] * 4
    assert logged_in(login("alice", PASSWORD)[0])


def test_the_lock_ends_after_the_cool_off(requester):
    fail("alice", 5)
    assert login("alice", PASSWORD)[1].status_code == 429
    # Sixteen minutes later (the cool-off is fifteen).
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    client, response = login("alice", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_force_login_and_api_tokens_are_not_throttled(requester):
    """Other tests log in with force_login, scripts with a token: neither
    goes through a password, so a lockout does not touch them."""
    fail("alice", 6)
    client = Client()
    client.force_login(requester)
    assert client.get(reverse("request-list")).status_code == 200
    token = Token.objects.create(user=requester)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(reverse("api-request-list")).status_code == 200


def test_the_admin_login_is_throttled_too(admin_user):
    for _ in range(5):
        Client(REMOTE_ADDR="10.0.0.9").post(
            reverse("admin:login"), {"username": "root", "password": "wrong"}
        )
    response = Client(REMOTE_ADDR="10.0.0.9").post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD}
    )
    assert response.status_code == 429


def test_with_sso_on_axes_checks_first_and_oidc_comes_before_passwords():
    """With OIDC_ENABLED the SSO backend joins the list behind axes's, so a
    locked-out password login never reaches any backend, and an SSO login
    (which carries no username or password) is not refused by axes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OIDC")}
    env.update(OIDC_ENABLED="true", DJANGO_SETTINGS_MODULE="portal.settings.test")
    code = "from django.conf import settings; print(' '.join(settings.AUTHENTICATION_BACKENDS))"
    result = run_python("-c", f"import django; django.setup(); {code}", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "axes.backends.AxesStandaloneBackend",
        "secrets_app.accounts.sso.GroupsClaimOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
