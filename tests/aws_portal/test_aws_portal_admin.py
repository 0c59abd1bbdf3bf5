"""Cluster registration from AWS in the admin: "Refresh from AWS" fills (or
fixes) the OIDC issuer from EKS and reports the IAM OIDC provider; adding a
cluster with a blank issuer fills it; AWS failures are messages, not 500s."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.models import Cluster
from tests.aws.aws_world import ACCOUNT, CLUSTER, REGION

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def eks_issuer(clients):
    eks = clients("eks")
    eks.create_cluster(
        name=CLUSTER,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": []},
    )
    issuer = eks.describe_cluster(name=CLUSTER)["cluster"]["identity"]["oidc"]["issuer"]
    return issuer.removeprefix("https://")


def refresh(admin_client, *clusters):
    response = admin_client.post(
        reverse("admin:secrets_app_cluster_changelist"),
        {"action": "refresh_from_aws", "_selected_action": [c.pk for c in clusters]},
        follow=True,
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def test_refresh_fills_the_issuer_and_reports_a_missing_oidc_provider(
    admin_client, moto_cluster, portal_aws, eks_issuer, clients
):
    Cluster.objects.filter(pk=moto_cluster.pk).update(oidc_issuer="")
    [(level, message)] = refresh(admin_client, moto_cluster)
    moto_cluster.refresh_from_db()
    assert moto_cluster.oidc_issuer == eks_issuer
    assert level == "warning"
    assert f"OIDC issuer filled in: {eks_issuer}" in message
    assert f"IAM OIDC provider for {eks_issuer} is missing" in message
    assert "eksctl utils associate-iam-oidc-provider --cluster dcp-dev" in message

    clients("iam").create_open_id_connect_provider(
        Url=f"https://{eks_issuer}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    [(level, message)] = refresh(admin_client, moto_cluster)
    assert level == "success"
    assert f"OIDC issuer {eks_issuer} matches EKS" in message
    assert f"oidc-provider/{eks_issuer} exists" in message


def test_refresh_fixes_a_stale_issuer_and_reports_an_unknown_cluster(
    admin_client, moto_cluster, portal_aws, eks_issuer
):
    ghost = Cluster.objects.create(
        name="ghost", aws_account_id=ACCOUNT, region=REGION, identity_mode="pod_identity"
    )
    messages = dict(refresh(admin_client, moto_cluster, ghost))
    moto_cluster.refresh_from_db()
    assert moto_cluster.oidc_issuer == eks_issuer
    assert any(
        "OIDC issuer fixed: was oidc.eks.us-west-2.amazonaws.com/id/REGISTERED0" in m
        for m in messages.values()
    )
    assert "EKS cluster ghost could not be described" in messages["error"]
    assert "ResourceNotFoundException" in messages["error"]


def cluster_form(**overrides):
    data = {
        "name": CLUSTER,
        "environment": "dev",
        "aws_account_id": ACCOUNT,
        "region": REGION,
        "oidc_issuer": "",
        "identity_mode": "irsa",
        "required_approvals": "1",
        "repo_backend": "github",
        "base_branch": "main",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_adding_a_cluster_without_issuer_fills_it_from_eks(admin_client, portal_aws, eks_issuer):
    response = admin_client.post(
        reverse("admin:secrets_app_cluster_add"), cluster_form(), follow=True
    )
    assert response.status_code == 200
    assert Cluster.objects.get(name=CLUSTER).oidc_issuer == eks_issuer
    notes = [m.message for m in response.context["messages"]]
    assert any(f"OIDC issuer filled in from EKS: {eks_issuer}" in n for n in notes)


def test_a_cluster_eks_does_not_know_is_an_error_on_the_form_not_a_500(admin_client, portal_aws):
    response = admin_client.post(
        reverse("admin:secrets_app_cluster_add"), cluster_form(eks_cluster_name="nope")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["oidc_issuer"]
    assert any("EKS cluster nope could not be described" in e for e in errors)
    assert not Cluster.objects.filter(name=CLUSTER).exists()


@pytest.mark.parametrize(
    "repos",
    [
        {"infra_repo": "platform/kilonova", "deploy_repo": "platform/kilonova"},
        # Blank takes the default: naming the other's default is the same repository.
        {"infra_repo": "", "deploy_repo": "platform/kilonova"},
    ],
)
def test_one_repository_for_infra_and_deploy_is_an_error_on_the_form(
    admin_client, portal_aws, eks_issuer, settings, repos
):
    settings.PORTAL_INFRA_REPO = "platform/kilonova"
    response = admin_client.post(reverse("admin:secrets_app_cluster_add"), cluster_form(**repos))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["deploy_repo"]
    assert errors == ["The deploy repository must differ from the infra repository."]
    assert not Cluster.objects.filter(name=CLUSTER).exists()
