"""Demo AWS: moto in server mode on loopback, seeded with the clusters' OIDC
providers and a few secrets (the guide's ``dcp-db-password`` among them, one
encrypted with a customer-managed key).

Accounts are told apart as in AWS: the process's own keys are a user's of
the demo account (janus-dev, janus-prod), and a cluster in another account
(the sandbox) is registered with a role there, which the portal assumes; the
demo's stand-ins for Terraform reach that account the same way. So each
cluster's picker lists its own account's secrets, with that account's ARNs.
"""

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


#: The role a cluster in another account is registered with (``Cluster.aws_role_arn``).
ACCOUNT_ROLE = "secrets-portal-demo"


def account_role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{ACCOUNT_ROLE}"


def start_moto() -> tuple[object, str]:
    """Start moto on a free loopback port, the process in the demo account."""
    # Set, it would make every request the same account, whatever the keys.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", DEMO_REGION)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    use_demo_account(endpoint)
    return server, endpoint


def use_demo_account(endpoint: str) -> None:
    """Give the process the keys of a user of the demo account (moto tells
    accounts apart by keys). Before any AWS client is made: the portal's
    process session keeps the keys it first finds."""
    iam = boto3.client(
        "iam",
        region_name=DEMO_REGION,
        endpoint_url=endpoint,
        aws_access_key_id="demo",
        aws_secret_access_key="demo",  # noqa: S106 - moto's, before the user exists
    )
    # Only this first call names its account by moto's header: the user's
    # keys do from then on.
    iam.meta.events.register("before-send.iam.*", _in_demo_account)
    iam.create_user(UserName="secrets-portal-demo")
    key = iam.create_access_key(UserName="secrets-portal-demo")["AccessKey"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]


def _in_demo_account(request, **_kwargs) -> None:
    request.headers["x-moto-account-id"] = DEMO_ACCOUNT


def _client(service: str, endpoint: str, *, role_arn: str = "", region: str = DEMO_REGION):
    """A client with the process's keys, or in ``role_arn``'s account, as the
    portal reaches a cluster's account (``aws_portal.clients``)."""
    if not role_arn:
        return boto3.client(service, region_name=region, endpoint_url=endpoint)
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="secrets-portal-demo")["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


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


def seed_account(
    endpoint: str, *, role_arn: str, region: str, issuer: str, secrets: list[str]
) -> dict[str, str]:
    """Another account's side of a cluster registered with ``role_arn``: its
    OIDC provider and secrets (name -> the VersionId each starts with)."""
    iam = _client("iam", endpoint, role_arn=role_arn, region=region)
    iam.create_open_id_connect_provider(
        Url=f"https://{issuer}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    manager = _client("secretsmanager", endpoint, role_arn=role_arn, region=region)
    versions = {}
    for name in secrets:
        # Demo values only: the portal itself never reads them back.
        created = manager.create_secret(
            Name=name, SecretString=json.dumps({"value": f"demo-{name}"})
        )
        versions[name] = created["VersionId"]
    return versions


def rotate_secret(endpoint: str, *, role_arn: str, region: str, name: str) -> str:
    """A rotation as Secrets Manager does it: a new version staged AWSCURRENT."""
    manager = _client("secretsmanager", endpoint, role_arn=role_arn, region=region)
    value = json.dumps({"value": f"demo-{name}-rotated"})
    return manager.put_secret_value(SecretId=name, SecretString=value)["VersionId"]


def apply_binding_iam(
    endpoint: str,
    *,
    role_name: str,
    trust: dict,
    permissions: dict,
    role_arn: str = "",
) -> None:
    """What `terraform apply` of the infra pull request does, for the demo:
    the role with its trust policy and an attached permissions policy, in the
    account the portal reaches with ``role_arn`` (the cluster's)."""
    iam = _client("iam", endpoint, role_arn=role_arn)
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


def remove_binding_iam(endpoint: str, *, role_name: str, role_arn: str = "") -> None:
    """What `terraform apply` of a revocation's infra pull request does, for
    the demo: the role and the policies attached to it are deleted."""
    iam = _client("iam", endpoint, role_arn=role_arn)
    try:
        attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    except iam.exceptions.NoSuchEntityException:
        return
    for policy in attached:
        iam.detach_role_policy(RoleName=role_name, PolicyArn=policy["PolicyArn"])
        iam.delete_policy(PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=role_name)
