"""kms:Decrypt only through Secrets Manager: the portal's own rendered policy
(with its ``kms:ViaService`` condition) passes verification in moto, and the
evaluator decides that condition instead of calling it unknowable."""

from __future__ import annotations

import pytest

from secrets_app.rendering import BindingSpec, permissions_policy
from secrets_app.verification import has_errors, verify_binding
from secrets_app.verification.policy_eval import condition_holds, evaluate
from tests.aws.aws_world import (
    ACCOUNT,
    CLUSTER,
    NAMESPACE,
    REGION,
    ROLE,
    SECRET,
    SERVICE_ACCOUNT,
    build_guide_world,
    secrets_policy,
)

VIA = f"secretsmanager.{REGION}.amazonaws.com"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DECRYPT = "kms:Decrypt"


def rendered_policy(world) -> dict:
    spec = BindingSpec.from_dict(
        {
            "cluster": {
                "name": CLUSTER,
                "account_id": ACCOUNT,
                "region": REGION,
                "oidc_issuer": world.issuer,
            },
            "service": "data-access-service",
            "namespace": NAMESPACE,
            "workload": {"name": "data-access-service", "containers": ["app"]},
            "service_account": SERVICE_ACCOUNT,
            "role_name": ROLE,
            "secrets": [
                {"arn": world.secret_arn, "alias": SECRET, "kms_key_arn": world.kms_key_arn}
            ],
        }
    )
    return permissions_policy(spec)


def decrypt_with(world, condition: dict) -> dict:
    policy = secrets_policy(world.secret_arn)
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Action": DECRYPT,
            "Resource": world.kms_key_arn,
            "Condition": condition,
        }
    )
    return policy


def by_code(findings):
    return {f.code: f for f in findings}


def test_the_portals_rendered_policy_passes_verification(clients, adapter):
    world = build_guide_world(clients, customer_key=True)
    policy = rendered_policy(world)
    (kms,) = [s for s in policy["Statement"] if s["Sid"] == "KmsDecrypt"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": VIA}}
    world.set_policy(policy)

    findings = verify_binding(adapter, world.expected())

    assert [f for f in findings if not f.ok] == []
    assert not has_errors(findings)
    decrypt = by_code(findings)["permissions.kms_decrypt"]
    assert "statement 'KmsDecrypt'" in decrypt.message


def test_decrypt_through_secrets_manager_of_another_region_is_refused(clients, adapter):
    world = build_guide_world(clients, customer_key=True)
    world.set_policy(
        decrypt_with(
            world, {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}
        )
    )
    decrypt = by_code(verify_binding(adapter, world.expected()))["permissions.kms_decrypt"]
    assert (decrypt.ok, decrypt.severity) == (False, "error")
    assert f'"Condition":{{"StringEquals":{{"kms:ViaService":"{VIA}"}}}}' in decrypt.fix


def test_a_condition_on_another_key_is_still_unknown(clients, adapter):
    world = build_guide_world(clients, customer_key=True)
    world.set_policy(decrypt_with(world, {"StringEquals": {"kms:CallerAccount": ACCOUNT}}))
    decrypt = by_code(verify_binding(adapter, world.expected()))["permissions.kms_decrypt"]
    assert (decrypt.ok, decrypt.severity) == (False, "warning")
    assert "depends on a Condition the portal does not evaluate" in decrypt.message


def statement(condition: dict, effect: str = "Allow") -> dict:
    return {"Effect": effect, "Action": DECRYPT, "Resource": KEY, "Condition": condition}


CONTEXT = {"kms:ViaService": VIA}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"StringEquals": {"kms:ViaService": VIA}}, True),
        ({"StringEquals": {"KMS:viaservice": VIA}}, True),  # keys are case-insensitive
        ({"StringEquals": {"kms:ViaService": VIA.upper()}}, False),  # values are not
        ({"StringEqualsIgnoreCase": {"kms:ViaService": VIA.upper()}}, True),
        ({"StringEquals": {"kms:ViaService": ["s3.us-west-2.amazonaws.com", VIA]}}, True),
        ({"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}, False),
        ({"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}, True),
        ({"StringLike": {"kms:ViaService": "s3.*"}}, False),
        ({"StringNotEquals": {"kms:ViaService": VIA}}, False),
        ({"StringNotEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}, True),
        ({"StringNotLike": {"kms:ViaService": "secretsmanager.*"}}, False),
        ({"StringEqualsIfExists": {"kms:ViaService": VIA}}, True),
        # What it cannot tell: a key the context does not state, another
        # operator, a set operator, a policy variable.
        ({"StringEquals": {"kms:ViaService": VIA, "kms:CallerAccount": ACCOUNT}}, None),
        ({"ArnLike": {"kms:ViaService": VIA}}, None),
        ({"ForAnyValue:StringEquals": {"kms:ViaService": VIA}}, None),
        ({"StringEquals": {"kms:ViaService": "${aws:username}"}}, None),
        ({"Bool": {"aws:SecureTransport": "true"}}, None),
    ],
)
def test_condition_holds(condition, holds):
    assert condition_holds(statement(condition), CONTEXT) is holds


def test_a_condition_is_decided_only_with_a_context():
    allow = {"Statement": [statement({"StringEquals": {"kms:ViaService": VIA}})]}
    assert evaluate([allow], DECRYPT, KEY).reason == "conditional_allow_only"
    assert evaluate([allow], DECRYPT, KEY, CONTEXT).reason == "allowed"
    other = {"kms:ViaService": "s3.us-west-2.amazonaws.com"}
    assert evaluate([allow], DECRYPT, KEY, other).reason == "implicit_deny"


def test_a_deny_whose_condition_holds_denies_and_one_that_does_not_is_ignored():
    allow = {"Effect": "Allow", "Action": DECRYPT, "Resource": KEY}
    deny_direct = statement({"StringNotEquals": {"kms:ViaService": VIA}}, effect="Deny")
    assert evaluate([{"Statement": [allow, deny_direct]}], DECRYPT, KEY, CONTEXT).allowed
    deny_via = statement({"StringEquals": {"kms:ViaService": VIA}}, effect="Deny")
    decision = evaluate([{"Statement": [allow, deny_via]}], DECRYPT, KEY, CONTEXT)
    assert decision.reason == "explicit_deny"
