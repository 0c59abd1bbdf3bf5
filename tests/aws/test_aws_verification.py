"""verify_binding on the guide's example in moto: the correct binding passes,
and each way of breaking it is reported by name, with the fix."""

from __future__ import annotations

import json

import pytest

from secrets_app.verification import ExpectedBinding, Finding, has_errors, verify_binding
from tests.aws.aws_world import (
    ACCOUNT,
    NAMESPACE,
    REGION,
    ROLE,
    SERVICE_ACCOUNT,
    build_guide_world,
    irsa_trust,
    pod_identity_trust,
    secrets_policy,
)

SUB = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"


def by_code(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings}


def failures(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings if not f.ok}


@pytest.fixture
def world(clients):
    return build_guide_world(clients)


def test_the_guides_binding_passes(world, adapter):
    findings = verify_binding(adapter, world.expected())
    assert failures(findings) == {}
    assert not has_errors(findings)
    assert set(by_code(findings)) == {
        "cluster.exists",
        "oidc_provider.exists",
        "oidc_provider.audience",
        "role.exists",
        "trust.oidc_provider",
        "trust.sub",
        "trust.aud",
        "secret.exists",
        "permissions.read_secret",
        "permissions.describe_secret",
        "permissions.kms_decrypt",
    }
    grant = by_code(findings)["permissions.read_secret"]
    assert grant.subject == world.secret_arn
    assert "statement 'Secrets' of attached policy" in grant.message


def test_findings_are_json_and_round_trip(world, adapter):
    findings = verify_binding(adapter, world.expected(oidc_issuer="oidc.example/id/STALE"))
    stored = json.loads(json.dumps([f.to_dict() for f in findings]))
    assert [Finding.from_dict(d) for d in stored] == findings
    expected = world.expected()
    assert ExpectedBinding.from_dict(json.loads(json.dumps(expected.to_dict()))) == expected


def test_the_guides_own_policy_lacks_only_describe_secret(world, adapter):
    """The guide grants GetSecretValue alone: mounts work, rotation does not."""
    world.set_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "secretsmanager:GetSecretValue",
                    "Effect": "Allow",
                    "Resource": world.secret_arn,
                    "Sid": "Secrets",
                }
            ],
        }
    )
    findings = verify_binding(adapter, world.expected())
    assert not has_errors(findings)
    assert list(failures(findings)) == ["permissions.describe_secret"]
    assert failures(findings)["permissions.describe_secret"].severity == "warning"


def test_wrong_sub(world, adapter):
    world.set_trust(irsa_trust(world.issuer, sub="system:serviceaccount:deploy:foo"))
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["trust.sub"]
    assert found["trust.sub"].message == (
        f"trust policy sub is system:serviceaccount:deploy:foo; expected {SUB}"
    )
    assert found["trust.sub"].fix == (f'set Condition StringEquals "{world.issuer}:sub" to "{SUB}"')


def test_wrong_aud(world, adapter):
    world.set_trust(irsa_trust(world.issuer, aud="sts.amazonaws.com.cn"))
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["trust.aud"]
    assert found["trust.aud"].severity == "error"
    assert "aud is sts.amazonaws.com.cn; expected sts.amazonaws.com" in found["trust.aud"].message


def test_wrong_oidc_provider_in_the_trust_policy(world, adapter):
    other = f"oidc.eks.{REGION}.amazonaws.com/id/0THERC1USTER"
    world.set_trust(irsa_trust(world.issuer, provider_issuer=other))
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["trust.oidc_provider"]
    message = found["trust.oidc_provider"].message
    assert f"oidc-provider/{other}" in message
    assert f"expected arn:aws:iam::{ACCOUNT}:oidc-provider/{world.issuer}" in message


def test_trust_for_another_issuer_entirely(world, adapter):
    """A trust policy copied from another cluster: provider and claims both
    name the other issuer."""
    other = f"oidc.eks.{REGION}.amazonaws.com/id/0THERC1USTER"
    world.set_trust(irsa_trust(other))
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["trust.oidc_provider"]


def test_no_oidc_provider_in_iam(world, adapter, clients):
    iam = clients("iam")
    arn = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"][0]["Arn"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["oidc_provider.exists"]
    assert "associate-iam-oidc-provider --cluster dcp-dev" in found["oidc_provider.exists"].fix


def test_policy_not_attached(world, adapter, clients):
    clients("iam").detach_role_policy(RoleName=ROLE, PolicyArn=world.policy_arn)
    found = failures(verify_binding(adapter, world.expected()))
    assert set(found) == {"permissions.read_secret", "permissions.describe_secret"}
    grant = found["permissions.read_secret"]
    assert grant.severity == "error"
    assert grant.message == (
        f"role {ROLE} has no attached or inline policies, so secretsmanager:GetSecretValue is denied"
    )
    assert grant.fix == (
        'add {"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"'
        f'{world.secret_arn[:-7]}-??????"}} to a policy attached to role {ROLE}'
    )


def test_policy_on_another_arn(world, adapter):
    other = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dcp-other-AbCdEf"
    world.set_policy(secrets_policy(other))
    found = failures(verify_binding(adapter, world.expected()))
    grant = found["permissions.read_secret"]
    assert f"allows secretsmanager:GetSecretValue on {world.secret_arn}" in grant.message
    assert f"the policies allow it only on {other}" in grant.message


def test_explicit_deny(world, adapter, clients):
    clients("iam").put_role_policy(
        RoleName=ROLE,
        PolicyName="no-db-secrets",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "NoDb",
                        "Effect": "Deny",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "arn:aws:secretsmanager:*:*:secret:dcp-db-*",
                    }
                ],
            }
        ),
    )
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["permissions.read_secret"]
    grant = found["permissions.read_secret"]
    assert "explicitly denied by statement 'NoDb' of inline policy no-db-secrets" in grant.message
    assert grant.fix.startswith("remove or narrow the Deny")


def test_customer_key_granted(clients, adapter):
    world = build_guide_world(clients, customer_key=True)
    findings = verify_binding(adapter, world.expected())
    assert failures(findings) == {}
    decrypt = by_code(findings)["permissions.kms_decrypt"]
    assert decrypt.ok
    assert world.kms_key_arn in decrypt.message


def test_missing_kms_decrypt(clients, adapter):
    world = build_guide_world(clients, customer_key=True)
    world.set_policy(secrets_policy(world.secret_arn))  # no kms:Decrypt statement
    # The binding need not know the key: the secret's metadata reveals it.
    found = failures(verify_binding(adapter, world.expected(kms_key_arns={})))
    assert list(found) == ["permissions.kms_decrypt"]
    assert f"kms:Decrypt on {world.kms_key_arn}" in found["permissions.kms_decrypt"].message
    assert '"Action":"kms:Decrypt"' in found["permissions.kms_decrypt"].fix


def test_missing_role_stops_early(world, adapter):
    found = failures(verify_binding(adapter, world.expected(role_name="nobody")))
    assert list(found) == ["role.exists"]
    assert "NoSuchEntity" in found["role.exists"].message
    assert "arn:aws:iam::123456789012:role/nobody" in found["role.exists"].fix


def test_missing_secret(world, adapter):
    gone = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dcp-gone-??????"
    found = failures(verify_binding(adapter, world.expected(secret_arns=[gone])))
    assert found["secret.exists"].severity == "error"
    assert "can't find the specified secret" in found["secret.exists"].message
    assert found["permissions.read_secret"].subject == gone


def test_stale_registered_issuer(world, adapter):
    stale = f"oidc.eks.{REGION}.amazonaws.com/id/STALE"
    found = failures(verify_binding(adapter, world.expected(oidc_issuer=stale)))
    # The live issuer is what STS sees, so the trust policy is judged against it.
    assert list(found) == ["cluster.oidc_issuer"]
    assert found["cluster.oidc_issuer"].fix.endswith(world.issuer)


def test_suffix_pattern_and_recreation(world, adapter):
    pattern = world.secret_arn[:-7] + "-??????"
    found = failures(verify_binding(adapter, world.expected(secret_arns=[pattern])))
    assert list(found) == ["permissions.secret_recreation"]
    assert found["permissions.secret_recreation"].severity == "warning"
    world.set_policy(secrets_policy(pattern))
    assert failures(verify_binding(adapter, world.expected(secret_arns=[pattern]))) == {}


def test_conditional_grant_is_a_warning(world, adapter):
    world.set_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": world.secret_arn,
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "dcp"}},
                }
            ],
        }
    )
    findings = verify_binding(adapter, world.expected())
    grant = failures(findings)["permissions.read_secret"]
    assert grant.severity == "warning"
    assert "depends on a Condition" in grant.message
    assert not has_errors(findings)


def test_permissions_boundary_is_respected(world, adapter, clients):
    iam = clients("iam")
    boundary = iam.create_policy(
        PolicyName="boundary-no-secrets",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=boundary)
    found = failures(verify_binding(adapter, world.expected()))
    assert "not by its permissions boundary" in found["permissions.read_secret"].message


def test_pod_identity_binding(clients, adapter):
    world = build_guide_world(clients, trust="pod_identity")
    findings = verify_binding(adapter, world.expected(identity="pod_identity"))
    codes = by_code(findings)
    assert codes["trust.pod_identity_principal"].ok
    assert codes["trust.pod_identity_actions"].ok
    assert "oidc_provider.exists" not in codes
    # moto has no Pod Identity API: reported as unchecked, not as a failure.
    association = codes["pod_identity.association"]
    assert (association.ok, association.severity) == (False, "warning")
    assert not has_errors(findings)


def test_pod_identity_without_tag_session(clients, adapter):
    world = build_guide_world(clients, trust="pod_identity")
    world.set_trust(pod_identity_trust(["sts:AssumeRole"]))
    found = failures(verify_binding(adapter, world.expected(identity="pod_identity")))
    assert "does not allow sts:TagSession" in found["trust.pod_identity_actions"].message


def test_irsa_expected_but_pod_identity_trust(clients, adapter):
    world = build_guide_world(clients, trust="pod_identity")
    found = failures(verify_binding(adapter, world.expected()))
    assert list(found) == ["trust.web_identity"]
    assert SUB in found["trust.web_identity"].fix
