"""API tokens: a management command prints one; the admin lists them; the
token authenticates and never reaches the log."""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def create_token(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_it_prints_a_working_token(requester, caplog):
    caplog.set_level(logging.DEBUG)

    key = create_token("alice")

    assert key == Token.objects.get(user=requester).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/requests/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    assert key not in caplog.text


def test_it_keeps_the_token_unless_rotated(requester):
    first = create_token("alice")

    assert create_token("alice") == first
    rotated = create_token("alice", "--rotate")
    assert rotated != first
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert client.get("/api/requests/").status_code == 401


def test_it_refuses_unknown_and_inactive_users(requester):
    with pytest.raises(CommandError, match="No user named bob"):
        create_token("bob")
    requester.is_active = False
    requester.save()
    with pytest.raises(CommandError, match="inactive"):
        create_token("alice")
    assert not Token.objects.exists()


def test_a_wrong_token_is_401(cluster):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/clusters/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_admins_see_tokens_in_the_admin():
    assert admin.site.is_registered(TokenProxy)
