"""The demo's stand-in for applying a revocation: the role and its policy are
deleted from the demo AWS (moto here) and the cluster is swept at once, so a
revocation merged with the demo's buttons is confirmed and revoked."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.test import override_settings

from fakes.kube_api import FakeKubeApi
from portal.celery import app as celery_app
from secrets_app.demo.apply import apply_infra_for_binding, remove_infra_for_binding
from secrets_app.events import bus, followups
from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import AccessRequest, Binding, BindingState, RequestState
from secrets_app.requests import provisioning, revocation
from tests.factories import BindingFactory, ClusterFactory
from tests.support.access_requests import approve, make_pending


@pytest.mark.django_db
def test_a_merged_removal_deletes_the_role_the_merged_grant_made(settings, moto, clients):
    settings.AWS_ENDPOINT_URL = moto
    grant = make_pending(ClusterFactory())
    grant.state = RequestState.ACTIVE
    grant.save()
    binding = BindingFactory(request=grant, cluster=grant.cluster, service=grant.service)
    role = binding.role_arn.rsplit("/", 1)[-1]
    iam = clients("iam")

    apply_infra_for_binding(binding.pk)
    assert iam.get_role(RoleName=role)["Role"]["RoleName"] == role
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]

    remove_infra_for_binding(binding.pk)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role)
    assert not [p for p in iam.list_policies(Scope="Local")["Policies"] if role in p["PolicyName"]]
    remove_infra_for_binding(binding.pk)  # applied twice: nothing left to delete, no error


@contextmanager
def demo_mode(moto_url: str, *, terraform: bool = False) -> Iterator[None]:
    """The demo's follow-ups (its "terraform apply", its immediate sweep) and
    tasks run inline, as ``run_demo`` has them without Redis. The Python
    stand-in applies infra changes unless ``terraform`` (test_demo_merges)."""
    eager = celery_app.conf.task_always_eager
    try:
        with override_settings(
            PORTAL_DEMO=True, AWS_ENDPOINT_URL=moto_url, PORTAL_DEMO_TERRAFORM=terraform
        ):
            bus.install(followups.table())
            celery_app.conf.task_always_eager = True
            yield
    finally:
        # Even when the test fails inside: later tests must not run the
        # demo's follow-ups.
        celery_app.conf.task_always_eager = eager
        bus.install(followups.table())


@pytest.mark.django_db(transaction=True)
def test_in_the_demo_a_merged_revocation_is_confirmed_at_once(
    settings, tmp_path, moto, clients, requester, approver, second_approver
):
    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    iam = clients("iam")
    with FakeKubeApi() as kube, demo_mode(moto):
        cluster = ClusterFactory(name="janus-dev", repo_backend="local", kube_api_url=kube.url)
        grant = make_pending(cluster, requester=requester)
        approve(grant, approver)
        for pull in grant.pull_requests.order_by("repository").reverse():  # infra first
            provisioning.merge_local_pull_request(pull, actor=approver)
        binding = Binding.objects.get(request=grant)
        role = binding.role_arn.rsplit("/", 1)[-1]
        assert iam.get_role(RoleName=role)  # the demo applied the grant

        with transaction.atomic():
            revoke = revocation.request_revocation(
                binding_id=binding.pk, requester=requester, reason="demo"
            )
        approve(revoke, approver)
        for pull in revoke.pull_requests.order_by("repository"):  # deploy first
            provisioning.merge_local_pull_request(pull, actor=approver)

    binding.refresh_from_db()
    assert binding.state == BindingState.REVOKED, binding.leftovers
    assert AccessRequest.objects.get(pk=revoke.pk).state == RequestState.REVOKED
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role)
