"""Every demo cluster's account has its secrets, found by the request form's
picker and its lookup with that account's ARNs (issue #18, item 3): the
janus clusters in the demo account through the process's keys, the sandbox
in its own account through the role it is registered with, as in AWS.

The demo's AWS set-up runs here against the session's moto (reset before
each test), with the process's keys and session as the demo sets them; the
portal reaches it through the recording proxy, which checks that no value
is read."""

from __future__ import annotations

import json

import boto3
import pytest

from secrets_app.aws_portal import pick_secrets
from secrets_app.aws_portal.lookup import SecretToCheck, lookup_secrets
from secrets_app.demo import aws as demo_aws
from secrets_app.demo.clusters import SANDBOX, seed_sandbox_aws
from secrets_app.demo.terraform import (
    TerraformUnavailable,
    Workspace,
    find_provider_mirror,
    find_terraform,
)
from secrets_app.integrations import aws as integration
from secrets_app.management.commands.seed_demo import DEMO_CLUSTERS
from secrets_app.models import Cluster
from secrets_app.rendering import name_rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_clusters(moto, portal_aws):
    # The process's sessions (the portal's and boto3's default) keep the
    # first keys they find: fresh ones here and after, so that neither this
    # test nor the next sees the other's keys.
    fresh_sessions()
    demo_aws.use_demo_account(moto)
    # The portal goes through the recording proxy (``portal_aws``), a new
    # endpoint per test: no role session of an earlier test is reused.
    demo_aws.seed_aws(moto, [])
    seed_sandbox_aws(moto)
    clusters = [Cluster.objects.create(**values) for values in [*DEMO_CLUSTERS, SANDBOX]]
    yield {c.name: c for c in clusters}
    fresh_sessions()


def fresh_sessions() -> None:
    integration._base_session.cache_clear()
    boto3.DEFAULT_SESSION = None


def test_every_demo_clusters_picker_lists_its_own_accounts_secrets(demo_clusters):
    for cluster in demo_clusters.values():
        picked = pick_secrets(cluster, "")

        assert not picked.error, (cluster.name, picked.error)
        assert picked.secrets, cluster.name
        where = {(s.account, s.region) for s in picked.secrets}
        assert where == {(cluster.aws_account_id, cluster.region)}, cluster.name


def test_a_piece_of_a_name_finds_it_on_every_demo_cluster(demo_clusters):
    janus = pick_secrets(demo_clusters["janus-dev"], "PASSWORD")
    sandbox = pick_secrets(demo_clusters["sandbox-eu"], "billing")

    assert [s.name for s in janus.secrets] == ["dcp-db-password", "reporting/warehouse-password"]
    assert [s.name for s in sandbox.secrets] == ["legacy/billing-db"]


def test_what_the_picker_offers_the_form_finds(demo_clusters):
    for cluster in demo_clusters.values():
        offered = pick_secrets(cluster, "").secrets[:3]
        to_check = [SecretToCheck(s.arn, name_rules.parse_secret_ref(s.arn), "") for s in offered]

        found = lookup_secrets(cluster, to_check)

        assert not found.missing and not found.warnings, (cluster.name, found)


@pytest.mark.slow
def test_terraform_applies_a_clusters_folder_in_the_account_of_its_role(moto, clients, tmp_path):
    try:
        find_terraform(), find_provider_mirror()
    except TerraformUnavailable as exc:
        pytest.fail(f"the demo's Terraform cannot run here: {exc}")
    role_arn = SANDBOX["aws_role_arn"]
    workspace = Workspace.create(
        tmp_path / "iam", endpoint=moto, region=SANDBOX["region"], role_arn=role_arn
    )
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    workspace.write(
        {
            "role.tf": f'resource "aws_iam_role" "r" {{\n  name = "sandbox-app"\n  assume_role_policy = {json.dumps(trust)}\n}}\n'
        }
    )
    workspace.init()
    workspace.apply()

    assumed = clients("sts").assume_role(RoleArn=role_arn, RoleSessionName="test-check")
    creds = assumed["Credentials"]
    there = boto3.client(
        "iam",
        endpoint_url=moto,
        region_name=SANDBOX["region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    arn = there.get_role(RoleName="sandbox-app")["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{SANDBOX['aws_account_id']}:role/sandbox-app"
    with pytest.raises(clients("iam").exceptions.NoSuchEntityException):
        clients("iam").get_role(RoleName="sandbox-app")  # not in the process's account
