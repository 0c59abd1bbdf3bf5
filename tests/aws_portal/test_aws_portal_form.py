"""The request form asks Secrets Manager about each secret (metadata only):
unknown secrets are refused with AWS's words, names become full ARNs,
customer-managed keys are detected, and an outage only warns."""

from __future__ import annotations

import json
import socket

import pytest
from django.urls import reverse

from secrets_app.models import AccessRequest, SecretGrant
from tests.aws.aws_world import ACCOUNT, REGION
from tests.support.access_requests import request_form_data, secrets_form_data

pytestmark = pytest.mark.django_db


def post_data(cluster, *secrets, action="submit"):
    return {**request_form_data(cluster, action=action), **secrets_form_data(*secrets)}


@pytest.fixture
def user_client(client, requester):
    client.force_login(requester)
    return client


def test_it_rejects_a_secret_that_does_not_exist(user_client, moto_cluster, portal_aws):
    response = user_client.post(
        reverse("request-create"), post_data(moto_cluster, {"secret": "no-such-secret"})
    )
    assert response.status_code == 200
    errors = response.context["formset"].forms[0].errors["secret"]
    assert "ResourceNotFoundException" in errors[0]
    assert "can't find the specified secret" in errors[0]
    assert "can&#x27;t find the specified secret" in response.content.decode()
    assert not AccessRequest.objects.exists()
    assert portal_aws.operations() == ["secretsmanager:DescribeSecret"]


def test_a_name_or_partial_arn_is_stored_as_the_full_arn(
    user_client, moto_cluster, portal_aws, clients
):
    sm = clients("secretsmanager")
    db_arn = sm.create_secret(Name="dcp-db-password", SecretString="x")["ARN"]
    api_arn = sm.create_secret(Name="dcp/api-token", SecretString="x")["ARN"]
    partial = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dcp/api-token"
    response = user_client.post(
        reverse("request-create"),
        post_data(
            moto_cluster,
            {"secret": "dcp-db-password"},  # any_suffix left unticked
            {"secret": partial, "any_suffix": "on"},
        ),
    )
    assert response.status_code == 302, (
        response.context["form"].errors,
        [f.errors for f in response.context["formset"]],
        [str(m) for m in response.context["messages"]],
    )
    grants = list(SecretGrant.objects.order_by("position"))
    assert [(g.secret, g.any_suffix, g.alias) for g in grants] == [
        (db_arn, False, "dcp-db-password"),  # the requester's choice, not forced
        (api_arn, True, "api-token"),
    ]


def test_a_customer_managed_key_is_detected_and_granted(
    user_client, moto_cluster, portal_aws, clients
):
    key = clients("kms").create_key(Description="dcp")["KeyMetadata"]
    clients("kms").create_alias(AliasName="alias/dcp", TargetKeyId=key["KeyId"])
    clients("secretsmanager").create_secret(
        Name="dcp-db-password", SecretString="x", KmsKeyId="alias/dcp"
    )
    preview = user_client.post(
        reverse("request-create"),
        post_data(moto_cluster, {"secret": "dcp-db-password"}, action="preview"),
    )
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "kms:Decrypt" in html
    assert key["Arn"] in html
    # The page shown again carries the resolved values in its fields.
    assert preview.context["formset"].forms[0]["kms_key_arn"].value() == key["Arn"]
    user_client.post(
        reverse("request-create"), post_data(moto_cluster, {"secret": "dcp-db-password"})
    )
    assert SecretGrant.objects.get().kms_key_arn == key["Arn"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_aws_down_is_a_warning_and_the_request_goes_on(user_client, moto_cluster, settings):
    settings.PORTAL_AWS_LOOKUP = True
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{closed_port()}"
    response = user_client.post(
        reverse("request-create"),
        post_data(moto_cluster, {"secret": "dcp-db-password"}, {"secret": "dcp-api-token"}),
        follow=True,
    )
    assert response.status_code == 200
    created = AccessRequest.objects.get()
    assert response.redirect_chain[-1][0] == created.get_absolute_url()
    warnings = [m.message for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1  # one outage, one warning, however many secrets
    assert "AWS could not be reached" in warnings[0]
    # Unchecked names keep the renderer's safe default: <name>-??????.
    assert list(SecretGrant.objects.values_list("secret", "any_suffix")) == [
        ("dcp-db-password", True),
        ("dcp-api-token", True),
    ]


def test_lookups_are_off_unless_configured(user_client, moto_cluster, settings):
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{closed_port()}"
    assert settings.PORTAL_AWS_LOOKUP is False  # the test settings' default
    response = user_client.post(reverse("request-create"), post_data(moto_cluster, {"secret": "x"}))
    assert response.status_code == 302


def test_a_secret_in_another_account_without_resource_policy_is_flagged(
    user_client, moto_cluster, portal_aws
):
    """moto keeps accounts apart, so the other account's answers are canned
    at the proxy (the adapter's requests still go over HTTP)."""
    other = "999999999999"
    arn = f"arn:aws:secretsmanager:{REGION}:{other}:secret:shared/db-AbCdEf"
    key = f"arn:aws:kms:{REGION}:{other}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    canned = {
        "secretsmanager:DescribeSecret": {"ARN": arn, "Name": "shared/db", "KmsKeyId": key},
        "secretsmanager:GetResourcePolicy": {"ARN": arn, "Name": "shared/db"},
        "kms:DescribeKey": {
            "KeyMetadata": {"Arn": key, "KeyId": key[-36:], "KeyManager": "CUSTOMER"}
        },
    }
    for operation, body in canned.items():
        portal_aws.inject(
            lambda r, op=operation: r.operation == op,
            times=1,
            status=200,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/x-amz-json-1.1"},
        )
    response = user_client.post(
        reverse("request-create"),
        post_data(moto_cluster, {"secret": arn, "cross_account": "on", "kms_key_arn": key}),
        follow=True,
    )
    assert response.status_code == 200
    assert AccessRequest.objects.count() == 1
    [warning] = [m.message for m in response.context["messages"] if m.level_tag == "warning"]
    assert f"is in account {other} and has no resource policy" in warning
    assert set(canned) <= set(portal_aws.operations())
