"""A loopback GitHub (``fakes.github_api.FakeGitHub``) holding the portal's
infra and deploy repositories, the cluster that provisions through it, and
the signed webhooks GitHub sends when a pull request closes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fakes.github_api import FakeGitHub
from secrets_app.models import Cluster, PullRequest
from tests.factories import ClusterFactory

TOKEN = "ghp_" + "PortalTestToken" * 2 + "x1"
WEBHOOK_SECRET = "webhook-secret-for-tests"
INFRA, DEPLOY = "platform/kilonova", "platform/deploy"


@contextmanager
def fake_github(settings: Any, *, token: str = TOKEN) -> Iterator[FakeGitHub]:
    """FakeGitHub with INFRA and DEPLOY (a README on main), and the portal's
    settings pointing at it with ``token``."""
    with FakeGitHub(token=token) as fake:
        for full in (INFRA, DEPLOY):
            owner, name = full.split("/")
            fake.create_repo(owner, name, base="main", files={"README.md": f"# {name}\n"})
        settings.GITHUB_API_URL = fake.base_url
        settings.GITHUB_TOKEN = token
        settings.PORTAL_INFRA_REPO = INFRA
        settings.PORTAL_DEPLOY_REPO = DEPLOY
        yield fake


@pytest.fixture
def github(settings: Any) -> Iterator[FakeGitHub]:
    """``fake_github`` with WEBHOOK_SECRET, and task retries fast and few
    (0.05 s growing to 0.2 s, at most 4)."""
    with fake_github(settings) as fake:
        settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.PORTAL_TASK_RETRY_BASE = 0.05
        settings.PORTAL_TASK_RETRY_CAP = 0.2
        settings.PORTAL_TASK_MAX_ATTEMPTS = 4
        yield fake


@pytest.fixture
def github_cluster(db: Any) -> Cluster:
    return ClusterFactory(name="janus-dev", repo_backend="github")


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """The X-Hub-Signature-256 header GitHub sends with ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(
    pull: PullRequest,
    *,
    merged: bool,
    signature: str | None = "good",
    secret: str = WEBHOOK_SECRET,
) -> Any:
    """Post GitHub's "pull request closed" webhook for ``pull`` to the portal.
    ``signature``: "good" signs it with ``secret``, None sends none, anything
    else is sent as the header."""
    payload = {
        "action": "closed",
        "repository": {"full_name": pull.repo_name},
        "pull_request": {"number": pull.number, "state": "closed", "merged": merged},
    }
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": "pull_request"}
    if signature == "good":
        headers["HTTP_X_HUB_SIGNATURE_256"] = signed(body, secret)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return Client(enforce_csrf_checks=True).post(
        reverse("github-webhook"), body, content_type="application/json", **headers
    )
