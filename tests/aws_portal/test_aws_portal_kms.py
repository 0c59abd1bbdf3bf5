"""The KMS key a request grants is its secret's, as DescribeSecret reports it,
through the page and the API alike: a typed key never replaces it, and a key
typed for a secret under the AWS managed key is dropped, with a warning.
With the lookup off, a typed key must be in the secret's account and region
(tests/filing's table); here, the lookup is on (moto)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from secrets_app.models import AccessRequest, SecretGrant
from secrets_app.rendering import render_binding
from secrets_app.requests.specs import spec_for_request
from tests.aws.aws_world import ACCOUNT, REGION
from tests.support.access_requests import request_form_data, secrets_form_data

pytestmark = pytest.mark.django_db

FOREIGN_KEY = "arn:aws:kms:us-west-2:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SAME_ACCOUNT_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"


def through_page(user, cluster, secret: dict) -> tuple[list[str], SecretGrant | None]:
    client_ = APIClient()
    client_.force_login(user)
    response = client_.post(
        reverse("request-create"),
        {**request_form_data(cluster), **secrets_form_data(secret)},
        follow=True,
    )
    assert response.status_code == 200
    warnings = [m.message for m in response.context["messages"] if m.level_tag == "warning"]
    return warnings, SecretGrant.objects.first()


def through_api(user, cluster, secret: dict) -> tuple[list[str], SecretGrant | None]:
    client_ = APIClient()
    client_.force_authenticate(user)
    body = {
        "cluster": cluster.name,
        "service": "data-access-service",
        "namespace": "deploy",
        "containers": ["app"],
        "justification": "Reads the RDS password.",
        "secrets": [secret],
    }
    response = client_.post("/api/requests/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json().get("warnings", []), SecretGrant.objects.first()


WAYS_IN = [through_page, through_api]


@pytest.mark.parametrize("way_in", WAYS_IN, ids=["page", "api"])
def test_a_key_typed_for_a_secret_under_the_aws_managed_key_is_dropped(
    way_in, requester, moto_cluster, portal_aws, clients
):
    arn = clients("secretsmanager").create_secret(Name="dcp-db-password", SecretString="x")["ARN"]

    warnings, grant = way_in(
        requester, moto_cluster, {"secret": arn, "kms_key_arn": SAME_ACCOUNT_KEY}
    )

    assert grant.kms_key_arn == ""
    assert any("AWS managed key" in w and SAME_ACCOUNT_KEY in w for w in warnings), warnings
    assert "kms:Decrypt" not in _terraform(grant.request)


def test_a_key_in_another_account_is_refused_in_the_pass_that_asks_aws(
    requester, moto_cluster, portal_aws, clients
):
    arn = clients("secretsmanager").create_secret(Name="dcp-db-password", SecretString="x")["ARN"]
    client_ = APIClient()
    client_.force_authenticate(requester)
    body = {
        "cluster": moto_cluster.name,
        "service": "data-access-service",
        "namespace": "deploy",
        "containers": ["app"],
        "justification": "Reads the RDS password.",
        "secrets": [{"secret": arn, "kms_key_arn": FOREIGN_KEY}],
    }
    response = client_.post("/api/requests/", body, format="json")
    assert response.status_code == 400
    [message] = response.json()["secrets"][0]["kms_key_arn"]
    assert "account 999999999999" in message and f"account {ACCOUNT}" in message
    assert not AccessRequest.objects.exists()
    # One pass (issue #18): the secret itself is still looked up, so that a
    # secret that does not exist would be said with the key's problem.
    assert portal_aws.operations() == ["secretsmanager:DescribeSecret"]


@pytest.mark.parametrize("way_in", WAYS_IN, ids=["page", "api"])
def test_the_secrets_own_key_replaces_a_typed_one(
    way_in, requester, moto_cluster, portal_aws, clients
):
    key = clients("kms").create_key(Description="dcp")["KeyMetadata"]["Arn"]
    arn = clients("secretsmanager").create_secret(
        Name="dcp-db-password", SecretString="x", KmsKeyId=key
    )["ARN"]

    warnings, grant = way_in(
        requester, moto_cluster, {"secret": arn, "kms_key_arn": SAME_ACCOUNT_KEY}
    )

    assert grant.kms_key_arn == key
    assert any(f"kms:Decrypt on {key} only" in w for w in warnings), warnings
    tf = _terraform(grant.request)
    assert key in tf and SAME_ACCOUNT_KEY not in tf
    assert f'values   = ["secretsmanager.{REGION}.amazonaws.com"]' in tf


def _terraform(request: AccessRequest) -> str:
    (tf,) = render_binding(spec_for_request(request)).files["infra"].values()
    return tf
