"""Stale versions through the real sweep: pods served by the fake Kubernetes
API mount versions of a secret that moto rotated; the sweep asks Secrets
Manager (through the recording proxy: metadata only, counted) which version
is current. A controlled clock moves past the grace period."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine

from fakes.cluster_gen import generate_cluster
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding, BindingSecret, Notification
from tests.aws.aws_fakes import json_error
from tests.aws.aws_world import ACCOUNT, REGION
from tests.factories import ClusterFactory, NamespaceFactory, TeamFactory, UserFactory
from tests.health_portal.health_support import make_bindings
from tests.support.clients import api_client_for

pytestmark = pytest.mark.django_db

ALIAS = "db-password"
LATER = datetime.timedelta(hours=2)


@pytest.fixture
def rotating(settings, fake, portal_aws, clients) -> dict[str, Any]:
    settings.PORTAL_ROTATION_CHECK = True
    settings.PORTAL_STALE_GRACE_MINUTES = 30
    settings.NOTIFICATIONS_ENABLED = True
    cluster = ClusterFactory(
        name="kind-rotation", kube_api_url=fake.url, aws_account_id=ACCOUNT, region=REGION
    )
    sm = clients("secretsmanager")
    created = sm.create_secret(Name="billing/db", SecretString="first")
    return {"cluster": cluster, "sm": sm, "arn": created["ARN"], "v1": created["VersionId"]}


def _rotate(world: dict[str, Any]) -> str:
    """A rotation as Secrets Manager does it: a new version staged AWSCURRENT."""
    return world["sm"].put_secret_value(SecretId=world["arn"], SecretString="next")["VersionId"]


def _serve(
    fake, world: dict[str, Any], versions: list[str], *, object_id: str = ALIAS, readiness="ready"
) -> Binding:
    """One binding of ``len(versions)`` mounted pods, each on its version, in
    a cluster of the given ``readiness`` (``fakes.cluster_ready``)."""
    generated = generate_cluster(
        pods=len(versions),
        bindings=1,
        mix=["healthy"],
        plain_pod_fraction=0.0,
        sync_fraction=0,
        readiness=readiness,
    )
    statuses = [o for o in generated.objects if o["kind"] == "SecretProviderClassPodStatus"]
    assert len(statuses) == len(versions)
    for status, version in zip(statuses, versions, strict=True):
        status["status"]["objects"] = [{"id": object_id, "version": version}]
    fake.add_many(generated.objects)
    (binding,) = make_bindings(world["cluster"], generated.targets).values()
    binding.owner = UserFactory(username="owner", email="owner@example.com")
    binding.save()
    BindingSecret.objects.filter(binding=binding).update(arn=world["arn"], name="billing/db")
    return binding


def _sweep(world: dict[str, Any]) -> Binding:
    assert sweep_cluster(world["cluster"].pk).ok
    return Binding.objects.get(cluster=world["cluster"])


def _stale_mail() -> list[Notification]:
    return list(Notification.objects.filter(event="binding.stale", channel="email"))


def test_pods_on_the_current_version_are_current(fake, rotating, portal_aws):
    _serve(fake, rotating, [rotating["v1"], rotating["v1"]])
    binding = _sweep(rotating)
    (secret,) = binding.versions
    assert secret["state"] == "current" and secret["current_version"] == rotating["v1"]
    assert binding.stale_since is None
    # One ListSecrets page for the account; never a value.
    assert portal_aws.operations().count("secretsmanager:ListSecrets") == 1


def test_a_missed_rotation_is_stale_after_the_grace_period_and_told_once(fake, rotating):
    _serve(fake, rotating, [rotating["v1"], rotating["v1"]])
    v2 = _rotate(rotating)

    binding = _sweep(rotating)
    (secret,) = binding.versions
    assert secret["state"] == "stale-grace" and secret["current_version"] == v2
    assert binding.stale_since is None and not _stale_mail()

    with time_machine.travel(datetime.datetime.now(datetime.UTC) + LATER, tick=False):
        binding = _sweep(rotating)
        (secret,) = binding.versions
        assert secret["state"] == "stale"
        assert [p for p, _ in secret["stale_pods"]] == sorted(p for p, _ in secret["stale_pods"])
        assert {v for _, v in secret["stale_pods"]} == {rotating["v1"]}
        assert binding.stale_since is not None
        assert binding.stale_since.isoformat() == secret["rotated_at"]
        # Told once per rotation, not once per sweep.
        _sweep(rotating)
    (mail,) = _stale_mail()
    assert mail.recipients == ["owner@example.com"]
    assert v2 in mail.body and "rollout restart" in mail.body

    v3 = _rotate(rotating)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + 2 * LATER, tick=False):
        binding = _sweep(rotating)
    assert binding.versions[0]["current_version"] == v3
    assert len(_stale_mail()) == 2


def test_pods_that_caught_up_are_current_again(fake, rotating):
    v2 = _rotate(rotating)
    _serve(fake, rotating, [v2, v2], object_id=rotating["arn"])  # ids as objectName
    binding = _sweep(rotating)
    assert binding.versions[0]["state"] == "current" and binding.stale_since is None


def test_a_secret_secrets_manager_will_not_describe_is_unknown(fake, rotating, portal_aws):
    _serve(fake, rotating, [rotating["v1"]])
    other = "arn:aws:secretsmanager:us-west-2:210987654321:secret:shared/api-key-AbCdEf"
    BindingSecret.objects.update(arn=other, name="shared/api-key")
    portal_aws.inject(
        lambda r: r.operation == "secretsmanager:DescribeSecret",
        times=10,
        status=400,
        body=json_error("AccessDeniedException", "not authorized"),
    )
    binding = _sweep(rotating)
    assert binding.versions[0]["state"] == "unknown" and binding.stale_since is None
    # Another account cannot be listed: one DescribeSecret for it, no listing.
    assert "secretsmanager:ListSecrets" not in portal_aws.operations()


def test_aws_calls_grow_with_the_accounts_secrets_over_100_not_with_bindings(
    fake, rotating, portal_aws
):
    for i in range(230):
        rotating["sm"].create_secret(Name=f"filler/{i:03}", SecretString="x")
    _serve(fake, rotating, [rotating["v1"]] * 12)
    portal_aws.clear()
    _sweep(rotating)
    sent = portal_aws.operations()
    assert sent.count("secretsmanager:ListSecrets") == 3  # 231 secrets, 100 a page
    assert "secretsmanager:DescribeSecret" not in sent


def test_the_page_the_inventory_and_the_api_show_a_stale_binding(fake, rotating, web):
    _serve(fake, rotating, [rotating["v1"], rotating["v1"]])
    _rotate(rotating)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + LATER, tick=False):
        binding = _sweep(rotating)
    page = web.get(binding.get_absolute_url()).content.decode()
    assert "Secret versions" in page and "stale: pods run an old version" in page
    assert rotating["v1"] in page
    # The cluster's driver rotates (its readiness check): the provider is suspect.
    assert "rotation is on in this cluster's driver, so this is the likely cause" in page
    listed = web.get("/bindings/?versions=stale").content.decode()
    assert binding.get_absolute_url() in listed
    assert binding.get_absolute_url() not in web.get("/bindings/?versions=current").content.decode()
    cluster = rotating["cluster"]
    stale_link = f"?cluster={cluster.pk}&amp;versions=stale"
    assert stale_link in web.get("/health/").content.decode()
    namespace_link = f"?cluster={cluster.pk}&amp;namespace={binding.namespace}&amp;versions=stale"
    assert namespace_link in web.get(f"/health/clusters/{cluster.name}/").content.decode()
    client = api_client_for(binding.owner)
    found = client.get("/api/bindings/", {"versions": "stale"}).json()["results"]
    assert [b["id"] for b in found] == [binding.pk]
    assert found[0]["versions"][0]["state"] == "stale"


def test_a_binding_nobody_owns_tells_the_team_that_owns_its_namespace(fake, rotating):
    binding = _serve(fake, rotating, [rotating["v1"]])
    Binding.objects.filter(pk=binding.pk).update(owner=None)
    member = UserFactory(username="ns-owner", email="ns-owner@example.com")
    team = TeamFactory(name="team-rotation")
    member.groups.add(team)
    # An admin set the owner (the sweep then keeps it whatever the label says).
    NamespaceFactory(
        cluster=rotating["cluster"], name=binding.namespace, team=team, team_override=team
    )
    _rotate(rotating)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + LATER, tick=False):
        _sweep(rotating)
    (mail,) = _stale_mail()
    assert mail.recipients == ["ns-owner@example.com"]


def test_a_cluster_whose_driver_does_not_rotate_says_so(fake, rotating, web):
    _serve(fake, rotating, [rotating["v1"]], readiness="no_rotation")
    _rotate(rotating)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + LATER, tick=False):
        binding = _sweep(rotating)
    page = web.get(binding.get_absolute_url()).content.decode()
    assert "Rotation is off in this cluster's driver" in page
    assert "rollout restart deployment/" in page
