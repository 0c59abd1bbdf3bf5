"""A merged change is verified again, against what the change rendered: a
real Celery worker opens its pull requests (local git), the merges record
it, and the verification the ``binding.changed`` event queues checks the
binding's role in AWS (moto) for the new secret too."""

from __future__ import annotations

import pytest
from django.db import transaction

from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import Binding, PullRequest, RequestState, TaskRun, VerificationResult
from secrets_app.ownership import claims
from secrets_app.requests import changes
from tests.aws.aws_world import build_guide_world
from tests.aws_portal.aws_portal_support import guide_binding
from tests.changes.change_support import merge_locally
from tests.support.access_requests import approve, state_of
from tests.support.celery_worker import running_worker
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def verify_runs(binding_id: int):
    return TaskRun.objects.filter(kind="verify", detail__binding_id=binding_id).exclude(
        outcome="running"
    )


def test_a_merged_change_is_verified_with_its_new_secret(
    settings, tmp_path, moto_cluster, portal_aws, clients, requester, approver
):
    settings.PORTAL_TASK_RETRY_BASE = 0.05
    settings.PORTAL_TASK_RETRY_CAP = 0.2
    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git")
    moto_cluster.repo_backend = "local"
    moto_cluster.save(update_fields=["repo_backend"])
    world = build_guide_world(clients)
    binding = guide_binding(moto_cluster, world)
    # Made by factories: its active grant still holds what a merge hands over.
    claims.hand_to_binding(binding.request, binding)
    binding.owner = requester
    binding.save(update_fields=["owner"])
    api_key = clients("secretsmanager").create_secret(Name="api-key", SecretString="k")["ARN"]

    with running_worker():
        _, secrets = changes.current_values(binding)
        with transaction.atomic():
            change = changes.request_change(
                binding_id=binding.pk,
                requester=requester,
                data={
                    "justification": "Reads the API key too.",
                    "secrets": [*secrets, {"secret": api_key, "alias": "api-key"}],
                },
            ).request
        approve(change, approver)
        wait_for(
            lambda: PullRequest.objects.filter(request=change).count() == 2,
            what="the change's pull requests",
        )
        merge_locally(change, approver)
        assert state_of(change) == RequestState.CHANGED
        wait_for(lambda: verify_runs(binding.pk).exists(), timeout=30, what="a verification")

    result = VerificationResult.objects.filter(binding=binding).latest("checked_at")
    # The role in AWS still reads only the first secret: the new one is missing.
    assert result.ok is False
    assert "api-key" in str(result.findings)
    assert Binding.objects.get(pk=binding.pk).verification_ok is False
