"""Throttling and single sign-on side by side: a username locked out of the
password form still logs in through the identity provider (a loopback
one here), because an SSO login carries no password for axes to count."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.sso_idp import sso_login

pytestmark = pytest.mark.django_db


def test_a_user_locked_out_of_passwords_still_logs_in_with_sso(idp, requester):
    for _ in range(5):
        Client().post(reverse("login"), {"username": "alice", "password": "wrong"})
    refused = Client().post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    assert refused.status_code == 429

    client = Client()
    response = sso_login(client, idp)
    assert response.status_code == 302, response.content
    assert "login" not in response["Location"]
    assert client.session["_auth_user_id"] == str(requester.pk)
    assert client.get(reverse("request-list")).status_code == 200
