"""A loopback GitHub, a real Celery worker on Redis, and approved requests."""

import pytest
from django.db import transaction

from fakes.github_api import FakeGitHub
from secrets_app.models import AccessRequest
from secrets_app.requests import workflow
from tests.factories import AccessRequestFactory, ClusterFactory, SecretGrantFactory
from tests.support.celery_worker import worker  # noqa: F401 - a fixture

TOKEN = "ghp_" + "PortalTestToken" * 2 + "x1"
WEBHOOK_SECRET = "webhook-secret-for-tests"
INFRA, DEPLOY = "platform/kilonova", "platform/deploy"


@pytest.fixture
def github(settings):
    with FakeGitHub(token=TOKEN) as fake:
        for full in (INFRA, DEPLOY):
            owner, name = full.split("/")
            fake.create_repo(owner, name, base="main", files={"README.md": f"# {name}\n"})
        settings.GITHUB_API_URL = fake.base_url
        settings.GITHUB_TOKEN = TOKEN
        settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.PORTAL_INFRA_REPO = INFRA
        settings.PORTAL_DEPLOY_REPO = DEPLOY
        settings.PORTAL_TASK_RETRY_BASE = 0.05
        settings.PORTAL_TASK_RETRY_CAP = 0.2
        settings.PORTAL_TASK_MAX_ATTEMPTS = 4
        yield fake


@pytest.fixture
def github_cluster(db):
    return ClusterFactory(name="janus-dev", repo_backend="github")


def make_pending(cluster, *, secrets=1, requester=None):
    kwargs = {"cluster": cluster, "service": "data-access-service"}
    if requester is not None:
        kwargs["requester"] = requester
    request = AccessRequestFactory(**kwargs)
    SecretGrantFactory(request=request)
    for i in range(1, secrets):
        SecretGrantFactory(
            request=request,
            alias=f"extra-{i}",
            secret=f"arn:aws:secretsmanager:us-west-2:287796791794:secret:extra-{i}-AbCdE{i % 10}",
            sync_secret_name="",
            sync_keys=[],
        )
    return request


def approve(request, approver):
    with transaction.atomic():
        workflow.request_approve(request_id=request.pk, approver=approver)


def state_of(request) -> str:
    return AccessRequest.objects.values_list("state", flat=True).get(pk=request.pk)
