"""No open redirect through ``next=``: every view that honours a redirect
parameter (the login form, logout, the admin's login, single sign-on)
refuses addresses off the portal and falls back to its own page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.sso_idp import sso_login

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
HOSTILE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    " //evil.example",
    "javascript:alert(1)",
]


def assert_stays_home(response, fallback: str) -> None:
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert "evil.example" not in location and "javascript" not in location, location
    assert location == fallback, location


@pytest.mark.parametrize("target", HOSTILE)
def test_login_form(requester, target):
    # From the form's hidden field (POST) and from the address bar (GET).
    response = Client().post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": target}
    )
    assert_stays_home(response, "/")
    response = Client().post(
        reverse("login") + "?next=" + target, {"username": "alice", "password": PASSWORD}
    )
    assert_stays_home(response, "/")


@pytest.mark.parametrize("target", HOSTILE)
def test_logout(requester, target):
    client = Client()
    client.force_login(requester)
    response = client.post(reverse("logout"), {"next": target})
    assert_stays_home(response, reverse("login"))


@pytest.mark.parametrize("target", HOSTILE)
def test_admin_login(admin_user, target):
    response = Client().post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": target}
    )
    assert_stays_home(response, "/")  # LOGIN_REDIRECT_URL: the portal's home


@pytest.mark.parametrize("target", HOSTILE)
def test_single_sign_on(idp, requester, target):
    response = sso_login(Client(), idp, next=target)
    assert_stays_home(response, "/")


def test_a_page_of_the_portal_is_honoured(requester, idp):
    """The control: ``next`` does work for the portal's own pages."""
    response = Client().post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": "/bindings/"}
    )
    assert response["Location"] == "/bindings/"
    assert sso_login(Client(), idp, next="/bindings/")["Location"] == "/bindings/"


def test_the_login_page_reflects_next_escaped():
    response = Client().get(reverse("login"), {"next": '"><script>alert(1)</script>'})
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
