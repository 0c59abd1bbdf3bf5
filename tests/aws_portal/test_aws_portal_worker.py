"""Verification on a real Celery worker (Redis broker): enqueued by the
activation hook when both pull requests merge, and by "Verify now", with
retries of an AWS outage recorded as task runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.models import Binding, PullRequest, TaskRun, VerificationResult
from secrets_app.requests import workflow
from tests.aws.aws_fakes import json_error
from tests.aws.aws_world import ROLE, build_guide_world
from tests.aws_portal.aws_portal_support import guide_binding
from tests.factories import AccessRequestFactory, SecretGrantFactory
from tests.support.celery_worker import running_worker
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(settings):
    settings.PORTAL_TASK_RETRY_BASE = 0.05
    settings.PORTAL_TASK_RETRY_CAP = 0.2
    with running_worker():
        yield


def finished_runs(binding_id):
    return list(
        TaskRun.objects.filter(kind="verify", detail__binding_id=binding_id)
        .exclude(outcome="running")
        .order_by("started_at", "id")
    )


def test_verify_now_runs_on_the_worker_and_retries_an_outage(
    client, requester, moto_cluster, portal_aws, clients, worker
):
    binding = guide_binding(moto_cluster, build_guide_world(clients))
    # The first AWS request of the first attempt fails (501: retryable here,
    # not retried by botocore), so the task itself must retry.
    portal_aws.inject(lambda r: True, times=1, status=501, body=json_error("Down", "try later"))
    client.force_login(requester)
    response = client.post(reverse("binding-verify", args=[binding.pk]), follow=True)
    assert response.redirect_chain[-1][0] == binding.get_absolute_url()
    assert "Verification against AWS is queued" in response.content.decode()

    wait_for(
        lambda: any(r.outcome == "succeeded" for r in finished_runs(binding.pk)),
        timeout=30,
        what="a successful run",
    )
    runs = finished_runs(binding.pk)
    assert [(r.outcome, r.attempt) for r in runs] == [("retrying", 1), ("succeeded", 2)]
    assert "try later" in runs[0].error
    assert runs[1].request_id == binding.request_id
    result = VerificationResult.objects.get(binding=binding)
    assert result.ok is True
    assert runs[1].detail["verification_id"] == result.pk
    assert Binding.objects.get(pk=binding.pk).verification_ok is True


def test_a_binding_made_active_by_merges_is_verified(moto_cluster, portal_aws, clients, worker):
    world = build_guide_world(clients)
    moto_cluster.oidc_issuer = world.issuer
    moto_cluster.save(update_fields=["oidc_issuer"])
    request = AccessRequestFactory(
        cluster=moto_cluster, service="data-access-service", role_name=ROLE, state="provisioning"
    )
    SecretGrantFactory(request=request, secret=world.secret_arn)
    pulls = [
        PullRequest.objects.create(
            request=request,
            repository=repo,
            repo_name=f"platform/{repo}",
            branch="portal/x",
            number=n,
            url=f"https://github.example/platform/{repo}/pull/{n}",
        )
        for n, repo in enumerate(("infra", "deploy"), start=1)
    ]
    for pull in pulls:
        workflow.pull_request_update_state(pull_id=pull.pk, state="merged")
    binding = Binding.objects.get(request=request)  # the activation hook enqueued on commit
    result = wait_for(
        lambda: VerificationResult.objects.filter(binding=binding).first(),
        timeout=30,
        what="a verification",
    )
    assert result.ok is True, [f for f in result.findings if not f["ok"]]
