"""Clients of the portal as a given user: the browser's (a session) and
automation's (an API token)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user: Any) -> Client:
    """A test client logged in as ``user`` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client_for(user: Any) -> APIClient:
    """An API client authenticated with ``user``'s token, as automation is."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
