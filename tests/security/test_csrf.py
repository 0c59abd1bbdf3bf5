"""CSRF on every POST: each URL of the resolver, posted to without a token
by a logged-in user who may otherwise act there, is refused with 403.
The designed exceptions are asserted too: the GitHub webhook (HMAC) and
the API called with a token (no cookie, so nothing to forge)."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from secrets_app.models import Comment, PullRequest
from tests.security.url_table import LOGIN, TABLE
from tests.security.walk import build_url, describe, post_data
from tests.security.world import ROLES

pytestmark = pytest.mark.django_db

# Not protected by the CSRF cookie, by design, each with its own guard.
EXEMPT = {"github-webhook": 401}


def allowed_role(key: str) -> str:
    """A logged-in role that gets past the permission checks of this URL,
    so that a 403 can only come from the missing token."""
    entry = TABLE[key]
    statuses = entry.post if entry.post is not None else entry.get
    for role, status in zip(ROLES, statuses, strict=True):
        if role != "anonymous" and status not in (LOGIN, 401, 403):
            return role
    return "admin"


def _post(client: Client, key: str, world) -> object:
    entry = TABLE[key]
    url = build_url(key, entry, world.ids)
    data = post_data(entry, world.ids)
    if entry.json:
        return client.post(url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


@pytest.mark.parametrize("key", list(TABLE))
def test_a_post_without_a_token_is_refused(world, key):
    role = allowed_role(key)
    response = _post(world.client(role, enforce_csrf_checks=True), key, world)
    if key in EXEMPT:
        assert response.status_code == EXEMPT[key], describe(response)
        return
    assert response.status_code == 403, (key, role, describe(response))
    if b"CSRF" not in response.content:
        # A page that hides the reason (the API docs): the same POST without
        # the CSRF check is not refused, so the 403 above was the token's.
        with transaction.atomic():
            control = _post(world.client(role), key, world)
            transaction.set_rollback(True)
        assert control.status_code != 403, (key, role, describe(control))


def test_the_same_post_with_the_token_goes_through(world):
    """The control: the refusal above is the token's, not the permission's."""
    client = world.client("requester", enforce_csrf_checks=True)
    url = reverse("request-detail", args=[world.ids["request"]])
    page = client.get(url)
    token = page.context["csrf_token"]
    response = client.post(
        reverse("request-comment", args=[world.ids["request"]]),
        {"body": "With the token.", "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 302
    assert Comment.objects.filter(body="With the token.").exists()


def test_the_api_with_a_token_needs_no_csrf_cookie(world):
    """Automation sends ``Authorization: Token``: no cookie, nothing a
    browser could be tricked into sending, so no CSRF token is asked."""
    token = Token.objects.get(user=world.users["requester"])
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("api-request-comment", args=[world.ids["request"]]),
        json.dumps({"body": "From a script."}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 201, response.content
    assert Comment.objects.filter(body="From a script.").exists()


def test_the_api_with_a_session_needs_the_csrf_token(world):
    client = world.client("requester", enforce_csrf_checks=True)
    response = client.post(
        reverse("api-request-comment", args=[world.ids["request"]]),
        json.dumps({"body": "Forged."}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Comment.objects.filter(body="Forged.").exists()


def test_the_webhook_without_a_valid_signature_changes_nothing(world, settings):
    settings.GITHUB_WEBHOOK_SECRET = "webhook-secret"
    body = json.dumps(
        {
            "repository": {"full_name": "platform/kilonova"},
            "pull_request": {"number": 7, "merged": True, "state": "closed"},
        }
    )
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("github-webhook"),
        body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="pull_request",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64,
    )
    assert response.status_code == 401
    assert PullRequest.objects.get(pk=world.ids["pull"]).state == "open"
