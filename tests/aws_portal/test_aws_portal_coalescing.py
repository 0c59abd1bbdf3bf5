"""Verification coalesces: one queued run per binding at a time, whoever
asks (the binding page's button, the API, a new binding's follow-up). Asked
while one is queued: "already queued", nothing sent. Asked while one runs:
one more is queued. Counted in the Celery queue in Redis and in the task
runs a real worker leaves."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from secrets_app.models import Binding, PullRequest, TaskRun
from secrets_app.requests import workflow
from tests.aws.aws_world import ROLE, build_guide_world
from tests.aws_portal.aws_portal_support import guide_binding
from tests.factories import AccessRequestFactory, SecretGrantFactory
from tests.support.celery_worker import emptied_broker, running_worker
from tests.support.clients import api_client_for, client_for
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    with emptied_broker("portal:queued:*") as conn:
        yield conn


def finished(binding_id: int) -> int:
    return (
        TaskRun.objects.filter(kind="verify", detail__binding_id=binding_id)
        .exclude(outcome="running")
        .count()
    )


def test_fifty_asks_queue_one_verification(
    moto_cluster, portal_aws, clients, requester, broker, settings
):
    binding = guide_binding(moto_cluster, build_guide_world(clients))
    page, api = client_for(requester), api_client_for(requester)
    said = []
    for i in range(50):
        if i % 2:
            response = api.post(f"/api/bindings/{binding.pk}/verify/")
            assert response.status_code == 202
            said.append(response.json()["status"])
        else:
            response = page.post(reverse("binding-verify", args=[binding.pk]), follow=True)
            said.append("queued" if "is queued" in response.content.decode() else "already")
    assert said[0] == "queued" and said.count("queued") == 1, said
    assert broker.llen("celery") == 1

    with running_worker(purge=False):
        wait_for(lambda: finished(binding.pk) == 1, timeout=30, what="the one verification")
        wait_for(lambda: broker.llen("celery") == 0, timeout=10, what="the queue drained")
    assert finished(binding.pk) == 1
    assert portal_aws.count("iam:GetRole") == 1
    # The run gave its claim back: asking again queues again.
    assert api.post(f"/api/bindings/{binding.pk}/verify/").json() == {"status": "queued"}


def test_asked_while_one_runs_queues_exactly_one_more(
    moto_cluster, portal_aws, clients, requester, broker
):
    binding = guide_binding(moto_cluster, build_guide_world(clients))
    api = api_client_for(requester)
    started, go_on = threading.Event(), threading.Event()

    def hold_first_role_read(recorded) -> bool:
        # Holds the running verification inside AWS until the test lets go.
        if recorded.operation == "iam:GetRole" and not started.is_set():
            started.set()
            go_on.wait(30)
        return False

    portal_aws.inject(hold_first_role_read, times=1, status=500)
    with running_worker(purge=False):
        assert api.post(f"/api/bindings/{binding.pk}/verify/").json()["status"] == "queued"
        assert started.wait(30), "the verification never reached AWS"
        # Running, not queued: the first ask queues one more, the rest coalesce.
        answers = [
            api.post(f"/api/bindings/{binding.pk}/verify/").json()["status"] for _ in range(5)
        ]
        assert answers == ["queued"] + ["already queued"] * 4
        go_on.set()
        wait_for(lambda: finished(binding.pk) == 2, timeout=30, what="both verifications")
    assert finished(binding.pk) == 2


def test_a_new_binding_follow_up_takes_the_same_claim(
    moto_cluster, portal_aws, clients, requester, broker
):
    world = build_guide_world(clients)
    moto_cluster.oidc_issuer = world.issuer
    moto_cluster.save(update_fields=["oidc_issuer"])
    request = AccessRequestFactory(
        cluster=moto_cluster, service="data-access-service", role_name=ROLE, state="provisioning"
    )
    SecretGrantFactory(request=request, secret=world.secret_arn)
    for number, repo in enumerate(("infra", "deploy"), start=1):
        pull = PullRequest.objects.create(
            request=request,
            repository=repo,
            repo_name=f"platform/{repo}",
            branch="portal/x",
            number=number,
            url=f"https://github.example/platform/{repo}/pull/{number}",
        )
        workflow.pull_request_update_state(pull_id=pull.pk, state="merged")
    binding = Binding.objects.get(request=request)
    verifications = [m for m in broker.lrange("celery", 0, -1) if b"verify_binding_task" in m]
    assert len(verifications) == 1
    # The page's button finds the follow-up's run queued.
    page = client_for(requester).post(reverse("binding-verify", args=[binding.pk]), follow=True)
    assert "already queued" in page.content.decode()
    assert [m for m in broker.lrange("celery", 0, -1) if b"verify_binding_task" in m] == (
        verifications
    )
