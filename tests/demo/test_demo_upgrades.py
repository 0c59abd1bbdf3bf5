"""In the demo a merged fleet upgrade is applied as a request's merge is:
the infra upgrade's folder by Terraform against moto (or the Python
stand-in), the deploy upgrade's built manifests into the fake cluster, which
is then swept. To see that the merge applied anything, what the grant made
is taken away by hand first (the role deleted, the cluster emptied): the
upgrades' merges bring it back, and the binding ends verified and healthy."""

from __future__ import annotations

import pytest

from secrets_app.demo import clusters as demo_clusters
from secrets_app.demo.aws import remove_binding_iam
from secrets_app.demo.terraform import TerraformUnavailable, find_provider_mirror, find_terraform
from secrets_app.fleet.check import Status, check_fleet
from secrets_app.fleet.tracking import merge_local_upgrade
from secrets_app.fleet.upgrades import upgrades_open
from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import Binding
from secrets_app.requests import provisioning
from tests.aws.aws_world import ACCOUNT, REGION
from tests.demo.test_demo_removal import demo_mode
from tests.factories import ClusterFactory, NamespaceFactory
from tests.fleet.fleet_support import as_if_rendered_before
from tests.support.access_requests import approve, make_pending

ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/DEMOUPGRADE0"


@pytest.fixture
def fake_cluster():
    fake = demo_clusters.start_fake()
    yield fake
    demo_clusters.RUNNING.pop(fake.url, None)
    fake.stop()


def _directories(settings, tmp_path) -> None:
    # Before ``demo_mode``: a setting changed inside its override would be
    # restored, at teardown, to the override's values (PORTAL_DEMO=True for
    # every test after this one).
    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    settings.PORTAL_DEMO_DIR = tmp_path / "demo"


def _world(settings, tmp_path, clients, requester, fake_url):
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / "repos" / f"{name}.git", base="main")
    clients("iam").create_open_id_connect_provider(
        Url=f"https://{ISSUER}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    secret = clients("secretsmanager").create_secret(Name="dcp-db-password", SecretString="x")
    cluster = ClusterFactory(
        name="janus-dev",
        aws_account_id=ACCOUNT,
        region=REGION,
        oidc_issuer=ISSUER,
        repo_backend="local",
        kube_api_url=fake_url,
    )
    NamespaceFactory(cluster=cluster, name="deploy", team=requester.groups.get(name="team-deploy"))
    return cluster, secret["ARN"]


def _granted(cluster, secret_arn, requester, approver) -> Binding:
    request = make_pending(cluster, requester=requester)
    request.secrets.update(secret=secret_arn)
    approve(request, approver)
    for pull in sorted(request.pull_requests.all(), key=lambda p: p.repository != "infra"):
        provisioning.merge_local_pull_request(pull, actor=approver)
    return Binding.objects.get(request=request)


def _upgrade_after_losing_everything(binding, iam, moto, fake, approver) -> dict[str, object]:
    """The binding's files outdated, what its grant made gone from AWS and the
    cluster, then its upgrades opened: {repository: upgrade}."""
    role = binding.role_arn.rsplit("/", 1)[-1]
    as_if_rendered_before(binding)
    remove_binding_iam(moto, role_name=role)
    fake.clear()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role)
    return {o.repository: o.upgrade for o in upgrades_open(check_fleet(), actor=approver)}


def _merge_and_check(upgrades, binding, iam, fake, approver) -> None:
    role = binding.role_arn.rsplit("/", 1)[-1]
    merge_local_upgrade(upgrades["infra"], actor=approver)
    assert iam.get_role(RoleName=role)["Role"]["RoleName"] == role  # applied again
    binding.refresh_from_db()
    assert binding.verification_ok is True  # verified after the apply, not before
    assert fake.count("Pod") == 0  # the deploy upgrade is not merged yet

    merge_local_upgrade(upgrades["deploy"], actor=approver)
    assert fake.count("ServiceAccount") == 1 and fake.count("SecretProviderClass") == 1
    assert fake.count("Pod") == 2
    binding.refresh_from_db()
    assert binding.health_status == "healthy"  # swept at once
    assert not binding.has_drift, binding.drift
    assert check_fleet().checks[0].status == Status.CURRENT


@pytest.mark.django_db(transaction=True)
def test_a_merged_upgrade_is_applied_by_the_stand_in_and_to_the_fake_cluster(
    settings, tmp_path, moto, clients, requester, approver, fake_cluster
):
    iam = clients("iam")
    _directories(settings, tmp_path)
    with demo_mode(moto):
        cluster, arn = _world(settings, tmp_path, clients, requester, fake_cluster.url)
        binding = _granted(cluster, arn, requester, approver)
        assert fake_cluster.count("Pod") == 2 and binding.health_status == "healthy"
        upgrades = _upgrade_after_losing_everything(binding, iam, moto, fake_cluster, approver)
        _merge_and_check(upgrades, binding, iam, fake_cluster, approver)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_merged_infra_upgrade_is_applied_by_terraform(
    settings, tmp_path, moto, clients, requester, approver, fake_cluster
):
    try:
        find_terraform(), find_provider_mirror()
    except TerraformUnavailable as exc:
        pytest.fail(f"the demo's Terraform cannot run here: {exc}")
    iam = clients("iam")
    _directories(settings, tmp_path)
    with demo_mode(moto, terraform=True):
        cluster, arn = _world(settings, tmp_path, clients, requester, fake_cluster.url)
        binding = _granted(cluster, arn, requester, approver)
        upgrades = _upgrade_after_losing_everything(binding, iam, moto, fake_cluster, approver)
        _merge_and_check(upgrades, binding, iam, fake_cluster, approver)
    role = binding.role_arn.rsplit("/", 1)[-1]
    # Terraform made it again (the stand-in sets no tags).
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}
    assert tags["ManagedBy"] == "secrets-access-portal"
