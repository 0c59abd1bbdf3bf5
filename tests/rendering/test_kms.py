"""A binding's KMS keys: each in its secret's account and region, granted
``kms:Decrypt`` only through Secrets Manager in that region (the Terraform
parsed back with python-hcl2, and the IAM JSON verification compares)."""

from __future__ import annotations

import pytest

from secrets_app.rendering import BindingSpec, permissions_policy, render_binding
from tests.rendering.rendering_support import guide_data, parse_hcl
from tests.rendering.test_spec_validation import problems

ACCOUNT = "287796791794"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = "111122223333"
OTHER_SECRET = f"arn:aws:secretsmanager:us-west-2:{OTHER}:secret:shared-token-AbC123"


def with_key(key: str | None, arn: str | None = None, **cluster: str) -> dict:
    data = guide_data()
    data["secrets"][0]["kms_key_arn"] = key
    if arn is not None:
        data["secrets"][0]["arn"] = arn
    data["cluster"].update(cluster)
    return data


def china() -> dict:
    key = "arn:aws-cn:kms:cn-north-1:287796791794:key/1234abcd"
    arn = "arn:aws-cn:secretsmanager:cn-north-1:287796791794:secret:dcp-db-password-QWYC1r"
    issuer = "oidc.eks.cn-north-1.amazonaws.com.cn/id/C0EB4AEEDFD18CBBCBD0686222057E0A"
    return with_key(key, arn, region="cn-north-1", oidc_issuer=issuer)


def decrypt_statements(data: dict) -> list[dict]:
    (tf,) = render_binding(BindingSpec.from_dict(data)).files["infra"].values()
    parsed = parse_hcl(tf)
    documents = [d["aws_iam_policy_document"] for d in parsed["data"]]
    return [
        statement
        for document in documents
        for body in document.values()
        for statement in body["statement"]
        if statement["actions"] == ["kms:Decrypt"]
    ]


@pytest.mark.parametrize(
    ("data", "region", "via"),
    [
        (with_key(KEY), "us-west-2", "secretsmanager.us-west-2.amazonaws.com"),
        (china(), "cn-north-1", "secretsmanager.cn-north-1.amazonaws.com.cn"),
    ],
    ids=["aws", "aws-cn"],
)
def test_decrypt_is_only_through_secrets_manager_in_the_secrets_region(data, region, via):
    (statement,) = decrypt_statements(data)
    assert statement["sid"] == "KmsDecrypt"
    assert statement["resources"] == [data["secrets"][0]["kms_key_arn"]]
    assert statement["condition"] == [
        {"test": "StringEquals", "variable": "kms:ViaService", "values": [via]}
    ]
    (kms,) = [
        s
        for s in permissions_policy(BindingSpec.from_dict(data))["Statement"]
        if s["Sid"] == "KmsDecrypt"
    ]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": via}}
    assert region in via


def test_no_key_no_decrypt_statement():
    assert decrypt_statements(guide_data()) == []


def test_a_cross_account_secret_takes_a_key_of_its_own_account():
    key = f"arn:aws:kms:us-west-2:{OTHER}:key/1234abcd"
    (statement,) = decrypt_statements(with_key(key, OTHER_SECRET))
    assert statement["resources"] == [key]


@pytest.mark.parametrize(
    ("key", "arn", "fragment"),
    [
        (f"arn:aws:kms:us-west-2:{OTHER}:key/1234abcd", None, f"account {OTHER}"),
        (f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd", None, "region eu-west-1"),
        # A secret in another account: a key of the cluster's account is not its key.
        (KEY, OTHER_SECRET, f"the secret is in account {OTHER}"),
        # A plain name is the cluster's account's secret.
        (f"arn:aws:kms:us-west-2:{OTHER}:key/1234abcd", "dcp-db-password", f"account {OTHER}"),
        (f"arn:aws-cn:kms:us-west-2:{ACCOUNT}:key/1234abcd", None, "secret's own account"),
    ],
)
def test_a_key_outside_the_secrets_account_and_region_is_refused(key, arn, fragment):
    found = problems(with_key(key, arn))
    assert list(found) == ["secrets[0].kms_key_arn"]
    assert fragment in found["secrets[0].kms_key_arn"]
