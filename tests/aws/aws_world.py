"""Builds the guide's data-access-service example in moto with plain boto3
(the tests' own client, not the adapter), in moto's default account."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from secrets_app.verification import ExpectedBinding

ACCOUNT = "123456789012"
REGION = "us-west-2"
CLUSTER = "dcp-dev"
NAMESPACE = "deploy"
SERVICE_ACCOUNT = "data-access-service-secrets"
ROLE = "data-access-service-secrets"
POLICY = "data-access-service-secrets-deploy-systems-com-dev"
SECRET = "dcp-db-password"


def irsa_trust(
    issuer: str,
    *,
    sub: str | None = None,
    aud: str = "sts.amazonaws.com",
    provider_issuer: str | None = None,
) -> dict[str, Any]:
    """The trust policy of the guide's Validation section, for ``issuer``."""
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider_issuer or issuer}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "",
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": aud,
                        f"{issuer}:sub": sub
                        or f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}",
                    }
                },
            }
        ],
    }


def secrets_policy(resource: str | list[str], *, kms_key: str | None = None) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Secrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": resource,
        }
    ]
    if kms_key:
        statements.append(
            {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key}
        )
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass
class World:
    clients: Any
    issuer: str
    secret_arn: str
    policy_arn: str
    kms_key_arn: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expected(self, **overrides: Any) -> ExpectedBinding:
        values: dict[str, Any] = {
            "account": ACCOUNT,
            "region": REGION,
            "cluster_name": CLUSTER,
            "role_name": ROLE,
            "namespace": NAMESPACE,
            "service_account": SERVICE_ACCOUNT,
            "secret_arns": [self.secret_arn],
            "oidc_issuer": self.issuer,
            "kms_key_arns": {self.secret_arn: self.kms_key_arn} if self.kms_key_arn else {},
        }
        values.update(overrides)
        return ExpectedBinding(**values)

    def set_trust(self, document: dict[str, Any]) -> None:
        self.clients("iam").update_assume_role_policy(
            RoleName=ROLE, PolicyDocument=json.dumps(document)
        )

    def set_policy(self, document: dict[str, Any]) -> None:
        """A new default version of the attached policy (what IAM enforces)."""
        self.clients("iam").create_policy_version(
            PolicyArn=self.policy_arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )


def build_guide_world(clients: Any, *, customer_key: bool = False, trust: str = "irsa") -> World:
    """Cluster, OIDC provider, secret (optionally under a customer-managed key),
    role with the guide's trust policy, and the permissions policy attached."""
    eks, iam, sm = clients("eks"), clients("iam"), clients("secretsmanager")
    eks.create_cluster(
        name=CLUSTER,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": []},
    )
    issuer = eks.describe_cluster(name=CLUSTER)["cluster"]["identity"]["oidc"]["issuer"]
    issuer = issuer.removeprefix("https://")
    iam.create_open_id_connect_provider(
        Url=f"https://{issuer}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    key_arn = None
    secret_kwargs: dict[str, Any] = {"Name": SECRET, "SecretString": "not-read-by-the-portal"}
    if customer_key:
        key = clients("kms").create_key(Description="dcp secrets")["KeyMetadata"]
        clients("kms").create_alias(AliasName="alias/dcp-secrets", TargetKeyId=key["KeyId"])
        key_arn = key["Arn"]
        secret_kwargs["KmsKeyId"] = "alias/dcp-secrets"
    secret_arn = sm.create_secret(**secret_kwargs)["ARN"]
    trust_doc = irsa_trust(issuer) if trust == "irsa" else pod_identity_trust()
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust_doc))
    policy_arn = iam.create_policy(
        PolicyName=POLICY, PolicyDocument=json.dumps(secrets_policy(secret_arn, kms_key=key_arn))
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=policy_arn)
    return World(clients, issuer, secret_arn, policy_arn, key_arn)


def pod_identity_trust(actions: list[str] | None = None) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": actions or ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
