"""The AWS adapter against moto's server, over HTTP."""

from __future__ import annotations

import json

import pytest

from secrets_app.integrations.aws import AwsAdapter, AwsPermanentError, RoleSessionCache
from secrets_app.integrations.errors import PermanentError
from tests.aws.aws_world import ACCOUNT, CLUSTER, REGION, ROLE, SECRET, build_guide_world

TRUST = {"Version": "2012-10-17", "Statement": []}


def test_it_describes_a_secret_under_the_aws_managed_key(clients, adapter):
    arn = clients("secretsmanager").create_secret(Name=SECRET, SecretString="x")["ARN"]
    info = adapter.describe_secret(SECRET)
    assert info.arn == arn
    assert info.name == SECRET
    assert (info.account, info.region) == (ACCOUNT, REGION)
    assert info.kms_key_id is None
    assert info.customer_managed_kms is False
    assert list(info.version_stages.values()) == [["AWSCURRENT"]]
    assert info.has_resource_policy is None


def test_it_detects_a_customer_managed_key_and_returns_its_arn(clients, adapter):
    kms = clients("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/dcp", TargetKeyId=key["KeyId"])
    sm = clients("secretsmanager")
    by_alias = sm.create_secret(Name="a", SecretString="x", KmsKeyId="alias/dcp")["ARN"]
    by_id = sm.create_secret(Name="b", SecretString="x", KmsKeyId=key["KeyId"])["ARN"]
    for arn in (by_alias, by_id):
        info = adapter.describe_secret(arn)
        assert info.customer_managed_kms is True
        assert info.kms_key_id == key["Arn"]


def test_the_aws_managed_alias_is_not_a_customer_key(clients, adapter):
    clients("secretsmanager").create_secret(
        Name=SECRET, SecretString="x", KmsKeyId="alias/aws/secretsmanager"
    )
    info = adapter.describe_secret(SECRET)
    assert (info.kms_key_id, info.customer_managed_kms) == (None, False)


def test_it_reports_a_resource_policy_when_asked(clients, adapter):
    sm = clients("secretsmanager")
    arn = sm.create_secret(Name=SECRET, SecretString="x")["ARN"]
    assert adapter.describe_secret(arn, with_resource_policy=True).has_resource_policy is False
    sm.put_resource_policy(
        SecretId=arn,
        ResourcePolicy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                        "Action": "secretsmanager:DescribeSecret",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    assert adapter.describe_secret(arn, with_resource_policy=True).has_resource_policy is True


def test_a_missing_secret_is_permanent_and_keeps_the_aws_message(moto, adapter, proxy):
    with pytest.raises(PermanentError) as raised:
        adapter.describe_secret("no-such-secret")
    assert "Secrets Manager can't find the specified secret" in str(raised.value)
    assert raised.value.code == "ResourceNotFoundException"
    assert raised.value.not_found
    assert raised.value.system == "aws"
    assert raised.value.status == 404
    assert proxy.count("secretsmanager:DescribeSecret") == 1  # not retried


def test_search_finds_by_prefix_and_caps_the_count(clients, make_adapter, proxy):
    sm = clients("secretsmanager")
    for name in ("dcp-db-password", "dcp-api-key", "dcp-cache", "other-db", "DCP-upper"):
        sm.create_secret(Name=name, SecretString="x", Description=f"{name} desc")
    adapter = make_adapter()
    found = adapter.search_secrets("dcp-")
    assert sorted(s.name for s in found) == ["dcp-api-key", "dcp-cache", "dcp-db-password"]
    assert all(
        s.arn.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:") for s in found
    )
    assert {s.description for s in found} >= {"dcp-cache desc"}
    proxy.clear()
    assert len(adapter.search_secrets("dcp-", limit=2)) == 2
    assert proxy.count("secretsmanager:ListSecrets") == 1
    # A pasted ARN searches by its name; junk and empty input send nothing.
    arn = next(s.arn for s in found if s.name == "dcp-cache")
    assert [s.name for s in adapter.search_secrets(arn)] == ["dcp-cache"]
    proxy.clear()
    assert adapter.search_secrets("") == []
    assert adapter.search_secrets("!dcp") == []
    assert proxy.operations() == []


def test_search_follows_next_tokens(clients, adapter, proxy):
    sm = clients("secretsmanager")
    for i in range(5):
        sm.create_secret(Name=f"page-{i}", SecretString="x")
    assert len(adapter.search_secrets("page-", limit=3)) == 3
    assert len(adapter.search_secrets("page-", limit=50)) == 5


def test_it_describes_a_cluster_and_finds_its_oidc_provider(clients, adapter):
    world = build_guide_world(clients)
    cluster = adapter.describe_cluster(CLUSTER)
    assert cluster.name == CLUSTER
    assert cluster.arn == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
    assert cluster.oidc_issuer == world.issuer
    assert not cluster.oidc_issuer.startswith("https://")
    assert cluster.status == "ACTIVE"
    assert cluster.version
    assert adapter.oidc_provider_exists(cluster.oidc_issuer)
    assert adapter.oidc_provider_exists(f"https://{cluster.oidc_issuer}")
    provider = adapter.get_oidc_provider(cluster.oidc_issuer)
    assert provider.arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{world.issuer}"
    assert provider.client_ids == ("sts.amazonaws.com",)
    assert not adapter.oidc_provider_exists(f"oidc.eks.{REGION}.amazonaws.com/id/NOPE")


def test_a_missing_cluster_is_permanent(adapter):
    with pytest.raises(AwsPermanentError, match="No cluster found for name: nope") as raised:
        adapter.describe_cluster("nope")
    assert raised.value.not_found


def test_it_reads_a_role_and_its_policies_across_pages(clients, make_adapter, proxy):
    world = build_guide_world(clients)
    iam = clients("iam")
    arns = [world.policy_arn]
    for i in range(4):
        arn = iam.create_policy(
            PolicyName=f"extra-{i}",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "s3:List*", "Resource": f"arn:aws:s3:::b{i}"}
                    ],
                }
            ),
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
        arns.append(arn)
    for i in range(3):
        iam.put_role_policy(
            RoleName=ROLE,
            PolicyName=f"inline-{i}",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
                }
            ),
        )
    # A second version becomes the default: the adapter must read that one.
    iam.create_policy_version(
        PolicyArn=world.policy_arn,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
            }
        ),
        SetAsDefault=True,
    )
    adapter = make_adapter(page_size=2)
    role = adapter.get_role(ROLE)
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
    assert role.trust_policy["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    policies = adapter.list_role_policies(ROLE)
    attached = [p for p in policies if p.kind == "attached"]
    assert sorted(p.arn for p in attached) == sorted(arns)
    guide = next(p for p in attached if p.arn == world.policy_arn)
    assert guide.version_id == "v2"
    assert guide.document["Statement"][0]["Action"] == "sqs:*"
    inline = [p for p in policies if p.kind == "inline"]
    assert sorted(p.name for p in inline) == ["inline-0", "inline-1", "inline-2"]
    assert all(isinstance(p.document, dict) for p in policies)
    # 5 attached policies at 2 per page: 3 list calls.
    assert proxy.count("iam:ListAttachedRolePolicies") == 3


def test_a_missing_role_is_no_such_entity(adapter):
    with pytest.raises(AwsPermanentError, match="NoSuchEntity") as raised:
        adapter.get_role("nobody")
    assert raised.value.not_found


def test_it_reads_a_permissions_boundary(clients, adapter):
    iam = clients("iam")
    boundary = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=boundary
    )
    role = adapter.get_role(ROLE)
    assert role.permissions_boundary_arn == boundary
    assert (
        adapter.get_managed_policy(boundary, "boundary").document["Statement"][0]["Action"] == "*"
    )


def test_pod_identity_listing_is_unknown_on_moto(clients, adapter, proxy):
    """moto 5.2 has no EKS Pod Identity API (a bare HTTP 404): the adapter
    says "cannot tell" (None) instead of failing or claiming there is none."""
    build_guide_world(clients)
    assert adapter.list_pod_identity_associations(CLUSTER, "deploy", "sa") is None
    assert proxy.count("eks:GET /clusters/dcp-dev/pod-identity-associations") == 1


def test_assumed_role_sessions_are_cached_until_near_expiry(clients, make_adapter, proxy):
    clients("iam").create_role(RoleName="portal-reader", AssumeRolePolicyDocument=json.dumps(TRUST))
    clients("secretsmanager").create_secret(Name=SECRET, SecretString="x")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/portal-reader"
    now = [0.0]
    cache = RoleSessionCache()

    def adapter() -> AwsAdapter:
        import time

        return make_adapter(
            role_arn=role_arn, session_cache=cache, clock=lambda: time.time() + now[0]
        )

    adapter().describe_secret(SECRET)
    adapter().describe_secret(SECRET)  # a new adapter, same cached session
    assert proxy.count("sts:AssumeRole") == 1
    # Moto issues one-hour credentials; 58 minutes later they are due for refresh.
    now[0] = 58 * 60
    adapter().describe_secret(SECRET)
    assert proxy.count("sts:AssumeRole") == 2
    assert proxy.count("secretsmanager:DescribeSecret") == 3
    # The assumed role's credentials, not the default chain's, signed the calls.
    signed = [r.headers["authorization"] for r in proxy.requests if r.service == "secretsmanager"]
    assert all("Credential=testing/" not in s for s in signed)


def test_the_endpoint_comes_from_aws_endpoint_url(clients, proxy, monkeypatch):
    clients("secretsmanager").create_secret(Name=SECRET, SecretString="x")
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    adapter = AwsAdapter(region=REGION, session_cache=RoleSessionCache())
    assert adapter.endpoint_url == proxy.url
    adapter.describe_secret(SECRET)
    assert proxy.count("secretsmanager:DescribeSecret") == 1


def test_operations_outside_the_allow_list_never_leave_the_process(adapter, proxy):
    client = adapter._client("secretsmanager")
    with pytest.raises(AwsPermanentError, match="not an operation the portal may call"):
        client.list_secret_version_ids(SecretId=SECRET)
    assert proxy.operations() == []
