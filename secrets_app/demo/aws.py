"""Demo AWS: moto in server mode on loopback, seeded with the clusters' OIDC
providers and a few secrets (the guide's ``dcp-db-password`` among them, one
encrypted with a customer-managed key)."""

from __future__ import annotations

import json
import os

import boto3

DEMO_ACCOUNT = "287796791794"
DEMO_REGION = "us-west-2"
DEMO_SECRETS = [
    ("dcp-db-password", None),
    ("data-access-service/api-key", None),
    ("payments/stripe-key", "cmk"),
    ("reporting/warehouse-password", None),
]


def start_moto() -> tuple[object, str]:
    """Start moto on a free loopback port; every account is the demo's."""
    os.environ["MOTO_ACCOUNT_ID"] = DEMO_ACCOUNT
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    os.environ.setdefault("AWS_DEFAULT_REGION", DEMO_REGION)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _client(service: str, endpoint: str):
    return boto3.client(service, region_name=DEMO_REGION, endpoint_url=endpoint)


def seed_aws(endpoint: str, issuers: list[str]) -> dict[str, str]:
    """OIDC providers and secrets; returns secret name -> full ARN."""
    iam = _client("iam", endpoint)
    for issuer in issuers:
        iam.create_open_id_connect_provider(
            Url=f"https://{issuer}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
        )
    kms = _client("kms", endpoint)
    key_id = kms.create_key(Description="payments secrets")["KeyMetadata"]["Arn"]
    secrets = _client("secretsmanager", endpoint)
    arns = {}
    for name, key in DEMO_SECRETS:
        extra = {"KmsKeyId": key_id} if key else {}
        # Demo values only: the portal itself never reads them back.
        created = secrets.create_secret(
            Name=name, SecretString=json.dumps({"value": f"demo-{name}"}), **extra
        )
        arns[name] = created["ARN"]
    return arns


def apply_binding_iam(endpoint: str, *, role_name: str, trust: dict, permissions: dict) -> None:
    """What `terraform apply` of the infra pull request does, for the demo:
    the role with its trust policy and an attached permissions policy."""
    iam = _client("iam", endpoint)
    try:
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        _update_permissions(iam, role_name, permissions)
        return
    policy = iam.create_policy(
        PolicyName=f"{role_name}-secrets-read", PolicyDocument=json.dumps(permissions)
    )
    iam.attach_role_policy(RoleName=role_name, PolicyArn=policy["Policy"]["Arn"])


def _update_permissions(iam, role_name: str, permissions: dict) -> None:
    """A changed binding: its policy gets a new default version (IAM keeps
    at most five, so the old ones go first)."""
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        if attached["PolicyName"] != f"{role_name}-secrets-read":
            continue
        arn = attached["PolicyArn"]
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(permissions), SetAsDefault=True
        )


def remove_binding_iam(endpoint: str, *, role_name: str) -> None:
    """What `terraform apply` of a revocation's infra pull request does, for
    the demo: the role and the policies attached to it are deleted."""
    iam = _client("iam", endpoint)
    try:
        attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    except iam.exceptions.NoSuchEntityException:
        return
    for policy in attached:
        iam.detach_role_policy(RoleName=role_name, PolicyArn=policy["PolicyArn"])
        iam.delete_policy(PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=role_name)
