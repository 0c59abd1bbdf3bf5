"""A revocation ends verified: merging its pull requests leaves the binding
revoking, with what is still there, until a health sweep of its cluster (the
loopback Kubernetes API) finds neither its ServiceAccount, nor its
SecretProviderClass, nor a pod mounting it, and the AWS check after the
sweep (moto) finds its IAM role gone. A real Celery worker runs the sweeps
and the checks."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from secrets_app.bindings.lifecycle import binding_removal_checked
from secrets_app.health.service import sweep_cluster
from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    BindingState,
    ClusterSweep,
    PullRequest,
    RequestState,
    TaskRun,
)
from secrets_app.requests import revocation, workflow
from secrets_app.tasks.health import sweep_cluster_task
from tests.aws.aws_fakes import query_error
from tests.aws.aws_world import ROLE, build_guide_world
from tests.aws_portal.aws_portal_support import guide_binding
from tests.factories import BindingFactory, BindingSecretFactory
from tests.support.celery_worker import emptied_broker, running_worker
from tests.support.clients import client_for
from tests.support.kube import expected_requests
from tests.support.waiting import wait_for
from tests.support.workload import deployed, take_away

SA_LEFT = {"where": "cluster", "what": "ServiceAccount deploy/data-access-service-secrets"}
CLASS_LEFT = {"where": "cluster", "what": "SecretProviderClass deploy/data-access-service-secrets"}
PODS_LEFT = {
    "where": "cluster",
    "what": "2 pods mount its class: data-access-service-5d8f7c9b4-00000, "
    "data-access-service-5d8f7c9b4-00001",
}
ROLE_LEFT = {"where": "aws", "what": f"IAM role {ROLE}"}


@pytest.fixture
def broker():
    with emptied_broker("portal:lock:health-sweep:*", "portal:queued:*") as conn:
        yield conn


@pytest.fixture
def world(clients):
    return build_guide_world(clients)


@pytest.fixture
def live(moto_cluster, fake, world, requester):
    """The guide's binding, deployed in the fake cluster, its role in moto."""
    moto_cluster.kube_api_url = fake.url
    moto_cluster.save(update_fields=["kube_api_url"])
    binding = guide_binding(moto_cluster, world)
    binding.owner = requester
    binding.save(update_fields=["owner"])
    BindingSecretFactory(binding=binding, arn=world.secret_arn)
    objects = deployed(binding)
    fake.add_many(objects)
    return binding, objects


def merged_revocation(binding: Binding, asker, approver) -> AccessRequest:
    """Asked, approved, its two pull requests recorded and merged (deploy
    first), through the workflow's own services."""
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=binding.pk, requester=asker, reason="retired"
        )
    with transaction.atomic():
        workflow.request_approve(request_id=revoke.pk, approver=approver)
    workflow.request_start_provisioning(request_id=revoke.pk)
    for number, repo in enumerate(("deploy", "infra"), start=1):
        pull = PullRequest.objects.create(
            request=revoke,
            repository=repo,
            purpose="revoke",
            repo_name=f"platform/{repo}",
            branch=f"portal/revoke-{revoke.pk}",
            number=number,
            url=f"https://github.example/platform/{repo}/pull/{number}",
        )
        workflow.pull_request_update_state(pull_id=pull.pk, state="merged")
    return revoke


def sweep_and_check(binding: Binding) -> Binding:
    """A sweep of the binding's cluster on the worker, and the AWS check it queues."""
    done = TaskRun.objects.filter(kind="removal_check").exclude(outcome="running")
    before = done.count()
    sweep_cluster_task.delay(binding.cluster_id)
    wait_for(lambda: done.count() > before, timeout=60, what="a removal check")
    return Binding.objects.get(pk=binding.pk)


def delete_role(clients, world) -> None:
    """What the Terraform pipeline does once the infra pull request merged."""
    iam = clients("iam")
    iam.detach_role_policy(RoleName=ROLE, PolicyArn=world.policy_arn)
    iam.delete_role(RoleName=ROLE)


def state_of(pk: int) -> str:
    return AccessRequest.objects.values_list("state", flat=True).get(pk=pk)


@pytest.mark.django_db(transaction=True)
def test_a_merged_revocation_waits_for_the_cluster_and_aws_then_is_revoked(
    live, fake, clients, world, portal_aws, approver, second_approver, requester, broker
):
    binding, objects = live
    grant_id = binding.request_id
    revoke = merged_revocation(binding, approver, second_approver)

    # Merged: the files are gone, the cluster and AWS still hold it all.
    binding.refresh_from_db()
    assert binding.state == BindingState.REVOKING and binding.removal_merged_at is not None
    assert binding.revoked_at is None
    assert state_of(revoke.pk) == RequestState.REVOKING
    assert state_of(grant_id) == RequestState.REVOKING
    assert binding.standing == ("revoking", "waiting for the cluster / AWS")

    with running_worker():
        binding = sweep_and_check(binding)
        assert binding.state == BindingState.REVOKING
        assert binding.leftovers == [SA_LEFT, CLASS_LEFT, PODS_LEFT, ROLE_LEFT]

        # Shown on the binding page, the revocation's page and the inventory.
        web = client_for(requester)
        for url in (
            binding.get_absolute_url(),
            revoke.get_absolute_url(),
            reverse("binding-list") + "?standing=confirming",
        ):
            page = web.get(url).content.decode()
            assert "waiting for the cluster / AWS" in page, url
            assert "ServiceAccount deploy/data-access-service-secrets" in page, url
            assert f"IAM role {ROLE}" in page, url

        # Argo CD removed the pods and the class; the ServiceAccount stays.
        take_away(fake, objects, "Pod", "SecretProviderClassPodStatus", "SecretProviderClass")
        binding = sweep_and_check(binding)
        assert binding.state == BindingState.REVOKING
        assert binding.leftovers == [SA_LEFT, ROLE_LEFT]

        # The cluster is clean, but Terraform has not applied: the role stays.
        take_away(fake, objects, "ServiceAccount")
        binding = sweep_and_check(binding)
        assert binding.state == BindingState.REVOKING
        assert binding.leftovers == [ROLE_LEFT]

        # Terraform applied: the next sweep and check find nothing.
        delete_role(clients, world)
        binding = sweep_and_check(binding)

    assert binding.state == BindingState.REVOKED and binding.revoked_at is not None
    assert binding.leftovers == []
    assert state_of(revoke.pk) == RequestState.REVOKED
    assert state_of(grant_id) == RequestState.REVOKED
    actions = list(
        AuditEvent.objects.filter(request=revoke).order_by("pk").values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "request.removal_merged",
        "binding.removal_merged",
        "request.revoked",
        "binding.revoked",
    ]
    assert AuditEvent.objects.filter(request_id=grant_id, action="request.revoked").count() == 1
    # AWS was asked about the role, metadata only (portal_aws checks no value was read).
    assert "iam:GetRole" in portal_aws.operations()
    # Each check is on the revocation's page, as a task run.
    runs = TaskRun.objects.filter(kind="removal_check", request=revoke)
    assert runs.count() == 4 and runs.filter(detail__revoked=True).count() == 1
    page = client_for(requester).get(binding.get_absolute_url()).content.decode()
    assert "waiting for the cluster / AWS" not in page and "Revoked" in page


@pytest.mark.django_db(transaction=True)
def test_the_aws_check_retries_throttling(
    live, fake, clients, world, portal_aws, approver, second_approver, broker, settings
):
    settings.PORTAL_TASK_RETRY_BASE = 0.05
    settings.PORTAL_TASK_RETRY_CAP = 0.2
    binding, objects = live
    merged_revocation(binding, approver, second_approver)
    take_away(fake, objects, *{o["kind"] for o in objects})
    delete_role(clients, world)
    # GetRole is throttled past botocore's own retries: the task retries.
    portal_aws.inject(
        lambda r: r.operation == "iam:GetRole",
        times=3,
        status=400,
        body=query_error("Throttling", "Rate exceeded"),
    )
    with running_worker():
        sweep_cluster_task.delay(binding.cluster_id)
        wait_for(
            lambda: Binding.objects.get(pk=binding.pk).state == BindingState.REVOKED,
            timeout=60,
            what="the binding revoked",
        )
    runs = TaskRun.objects.filter(kind="removal_check").order_by("started_at", "id")
    assert [(r.outcome, r.attempt) for r in runs] == [("retrying", 1), ("succeeded", 2)]
    assert "Throttling" in runs[0].error


@pytest.mark.django_db
def test_only_a_sweep_that_started_after_the_merge_confirms(
    live, fake, portal_aws, approver, second_approver, broker
):
    binding, objects = live
    take_away(fake, objects, *{o["kind"] for o in objects})
    # A sweep finds the cluster clean, but it started before the merge.
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=binding.pk, requester=approver, reason="x"
        )
    with transaction.atomic():
        workflow.request_approve(request_id=revoke.pk, approver=second_approver)
    sweep = sweep_cluster(binding.cluster_id)
    assert sweep.ok and Binding.objects.get(pk=binding.pk).leftovers == []
    ClusterSweep.objects.filter(pk=sweep.pk).update(
        started_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    Binding.objects.filter(pk=binding.pk).update(removal_merged_at=timezone.now())
    AccessRequest.objects.filter(pk=revoke.pk).update(state=RequestState.REVOKING)
    assert binding_removal_checked(binding_id=binding.pk, aws=[]).state == BindingState.REVOKING
    # The next sweep started after it: now nothing left means revoked.
    sweep_cluster(binding.cluster_id)
    assert binding_removal_checked(binding_id=binding.pk, aws=[]).state == BindingState.REVOKED
    assert state_of(revoke.pk) == RequestState.REVOKED


@pytest.mark.django_db
def test_an_aws_that_cannot_be_asked_counts_as_something_left(live):
    """The default test AWS endpoint is a closed port: no proof, no revocation."""
    from secrets_app.aws_portal import aws_leftovers

    binding, _ = live
    (left,) = aws_leftovers(binding.pk)
    assert left["where"] == "aws" and "could not be asked" in left["what"]


@pytest.mark.django_db
def test_leftovers_cost_no_request_and_one_query_whatever_the_number_of_bindings(
    fake, moto_cluster
):
    """The sweep already lists ServiceAccounts, classes and pods cluster-wide."""
    moto_cluster.kube_api_url = fake.url
    moto_cluster.save(update_fields=["kube_api_url"])
    queries = []
    for count in (1, 6):
        Binding.objects.all().delete()
        fake.clear()
        bindings = [
            BindingFactory(
                cluster=moto_cluster,
                state=BindingState.REVOKING,
                removal_merged_at=timezone.now(),
            )
            for _ in range(count)
        ]
        objects = [o for b in bindings for o in deployed(b)]
        fake.add_many(objects)
        fake.clear_requests()
        with CaptureQueriesContext(connection) as captured:
            sweep = sweep_cluster(moto_cluster.pk)
        assert sweep.requests == expected_requests(objects)
        queries.append(len(captured))
        for b in bindings:
            b.refresh_from_db()
            assert [e["what"].split(" ")[0] for e in b.leftovers] == [
                "ServiceAccount",
                "SecretProviderClass",
                "2",
            ]
    # One query more than a sweep without revocations (the AWS part, read under
    # lock); none for namespaces: this fake cluster lists none.
    assert queries[0] == queries[1] == 9
