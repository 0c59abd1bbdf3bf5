"""The demo's happy path with real tools: the guide's request, approved; its
infra pull request merged and applied by real Terraform against moto; its
deploy pull request merged, built by real ``kubectl kustomize`` and applied
to the demo's fake cluster, which runs it; the binding ends healthy and
verified. Then the revocation takes it all away again.

Terraform is what the demo uses when it is there (PORTAL_DEMO_TERRAFORM);
here it must be: a missing binary or provider mirror fails the test with the
reason, so that the stand-in cannot pass for it."""

from __future__ import annotations

import pytest
from django.db import transaction

from secrets_app.demo import clusters as demo_clusters
from secrets_app.demo.terraform import (
    TerraformUnavailable,
    Workspace,
    find_provider_mirror,
    find_terraform,
)
from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import AccessRequest, Binding, BindingState, RequestState
from secrets_app.requests import provisioning, revocation
from tests.aws.aws_world import ACCOUNT, REGION
from tests.demo.test_demo_removal import demo_mode
from tests.factories import ClusterFactory, NamespaceFactory
from tests.support.access_requests import approve, make_pending

ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/DEMOTOOLS0"


@pytest.fixture
def terraform():
    try:
        return find_terraform(), find_provider_mirror()
    except TerraformUnavailable as exc:
        pytest.fail(f"the demo's Terraform cannot run here: {exc}")


@pytest.fixture
def fake_cluster():
    fake = demo_clusters.start_fake()
    yield fake
    demo_clusters.RUNNING.pop(fake.url, None)
    fake.stop()


def _merge_all(request, actor, order):
    for pull in (
        request.pull_requests.order_by("repository").reverse()
        if order == "infra"
        else (request.pull_requests.order_by("repository"))
    ):
        provisioning.merge_local_pull_request(pull, actor=actor)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_guides_request_ends_healthy_with_the_role_terraform_made(
    settings, tmp_path, moto, clients, requester, approver, terraform, fake_cluster
):
    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    settings.PORTAL_DEMO_DIR = tmp_path / "demo"
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / "repos" / f"{name}.git", base="main")
    iam = clients("iam")
    iam.create_open_id_connect_provider(
        Url=f"https://{ISSUER}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    secret_arn = clients("secretsmanager").create_secret(
        Name="dcp-db-password", SecretString="never-read"
    )["ARN"]

    with demo_mode(moto, terraform=True):
        cluster = ClusterFactory(
            name="janus-dev",
            aws_account_id=ACCOUNT,
            region=REGION,
            oidc_issuer=ISSUER,
            repo_backend="local",
            kube_api_url=fake_cluster.url,
        )
        team = requester.groups.get(name="team-deploy")
        NamespaceFactory(cluster=cluster, name="deploy", team=team)
        grant = make_pending(cluster, requester=requester)
        grant.secrets.update(secret=secret_arn)
        approve(grant, approver)
        _merge_all(grant, approver, "infra")  # infra first, as the guide says

        binding = Binding.objects.get(request=grant)
        role = binding.role_arn.rsplit("/", 1)[-1]
        assert binding.health_status == "healthy", binding.health_status
        assert binding.verification_ok is True
        # Terraform made the role: its tags (the stand-in sets none) and its state.
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}
        assert tags["ManagedBy"] == "secrets-access-portal"
        (folder,) = (tmp_path / "demo" / "terraform").glob("iam/*/*")
        workspace = Workspace(folder, *terraform)
        assert f"aws_iam_role.secrets_{role}" in workspace.state()
        # The fake cluster runs what kustomize built from the merged folder.
        assert fake_cluster.count("ServiceAccount") == 1
        assert fake_cluster.count("Pod") == 2

        with transaction.atomic():
            revoke = revocation.request_revocation(
                binding_id=binding.pk, requester=requester, reason="demo"
            )
        approve(revoke, approver)
        _merge_all(revoke, approver, "deploy")  # deploy first: pods stop reading first

    binding.refresh_from_db()
    assert binding.state == BindingState.REVOKED, binding.leftovers
    assert AccessRequest.objects.get(pk=revoke.pk).state == RequestState.REVOKED
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role)
    assert workspace.state() == []
    assert fake_cluster.count("ServiceAccount") == 0 and fake_cluster.count("Pod") == 0
