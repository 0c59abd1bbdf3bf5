"""The table of binding specs the real tools are run on: IRSA and Pod
Identity, one and many secrets, JMES, KMS, sync, a StatefulSet, long names,
GovCloud. Each is built for an account and region (moto's, for the applies),
so that what Terraform creates can be found and verified there.

``SECRETS[name]`` lists the secrets a spec reads, by name, so a test can
create them first (verification describes each one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-west-2"
GOV_REGION = "us-gov-west-1"
CLUSTER = "dcp-dev"
NAMESPACE = "deploy"
LONG = "a-long-service-name-" + "x" * 35 + "-service"  # 63 characters


def _cluster(identity: str, region: str, issuer: str | None) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": CLUSTER,
        "account_id": ACCOUNT,
        "region": region,
        "identity": identity,
    }
    if identity == "irsa":
        cluster["oidc_issuer"] = issuer or f"oidc.eks.{region}.amazonaws.com/id/TOOLS0{region[:2]}"
    return cluster


def _arn(name: str, region: str = REGION, suffix: str = "AbC123") -> str:
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{suffix}"


def _spec(
    service: str,
    secrets: list[dict[str, Any]],
    *,
    identity: str = "irsa",
    region: str = REGION,
    issuer: str | None = None,
    workload: dict[str, Any] | None = None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "cluster": _cluster(identity, region, issuer),
        "request": {"id": 16, "requester": "alice"},
        "service": service,
        "namespace": NAMESPACE,
        "workload": workload or {"kind": "Deployment", "name": service, "containers": ["app"]},
        "secrets": secrets,
        **more,
    }


def irsa_one_secret(**cluster: Any) -> dict[str, Any]:
    """The guide's example: one secret, synced into one env var."""
    return _spec(
        "data-access-service",
        [
            {
                "arn": "dcp-db-password",
                "alias": "dcp-db-password",
                "sync": {
                    "secret_name": "dcp-db-password",
                    "keys": [
                        {"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}
                    ],
                },
            }
        ],
        service_account="data-access-service-secrets",
        **cluster,
    )


def pod_identity_many(**cluster: Any) -> dict[str, Any]:
    """Pod Identity, three secrets: a name, a partial ARN and an ``any_suffix``."""
    return _spec(
        "ledger",
        [
            {"arn": "ledger/db", "alias": "db"},
            {"arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ledger/api", "alias": "api"},
            {"arn": "ledger/token", "alias": "token", "any_suffix": True},
        ],
        identity="pod_identity",
        **cluster,
    )


def jmes_keys(**cluster: Any) -> dict[str, Any]:
    return _spec(
        "reports",
        [
            {
                "arn": "reports/warehouse",
                "alias": "warehouse",
                "jmes": [
                    {"path": "username", "alias": "wh-user"},
                    {"path": "pass-word", "alias": "wh-pass"},
                ],
            }
        ],
        **cluster,
    )


def kms_key(**cluster: Any) -> dict[str, Any]:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return _spec(
        "payments",
        [{"arn": "payments/stripe", "alias": "stripe", "kms_key_arn": key}],
        **cluster,
    )


def sync_many_keys(**cluster: Any) -> dict[str, Any]:
    """Two synced Secrets, env vars from both, a basic-auth type."""
    return _spec(
        "billing",
        [
            {
                "arn": "billing/db",
                "alias": "db",
                "jmes": [
                    {"path": "username", "alias": "db-user"},
                    {"path": "password", "alias": "db-pw"},
                ],
                "sync": {
                    "secret_name": "billing-db",
                    "type": "kubernetes.io/basic-auth",
                    "keys": [
                        {"object": "db-user", "key": "username", "env": "DB_USER"},
                        {"object": "db-pw", "key": "password", "env": "DB_PASSWORD"},
                    ],
                },
            },
            {
                "arn": "billing/api",
                "alias": "api",
                "file_permission": "0440",
                "sync": {
                    "secret_name": "billing-api",
                    "keys": [{"object": "api", "key": "token", "env": "API_TOKEN"}],
                },
            },
        ],
        **cluster,
    )


def statefulset_two_containers(**cluster: Any) -> dict[str, Any]:
    return _spec(
        "queue",
        [
            {
                "arn": "queue/broker",
                "alias": "broker",
                "sync": {
                    "secret_name": "queue-broker",
                    "keys": [{"object": "broker", "key": "url", "env": "BROKER_URL"}],
                },
            }
        ],
        workload={"kind": "StatefulSet", "name": "queue", "containers": ["app", "worker"]},
        mount_path="/var/run/queue-secrets",
        **cluster,
    )


def long_names(**cluster: Any) -> dict[str, Any]:
    """A 63-character service: the default role name is cut and hashed."""
    return _spec(LONG, [{"arn": f"{LONG}/db", "alias": "db"}], **cluster)


def govcloud(**cluster: Any) -> dict[str, Any]:
    cluster.setdefault("region", GOV_REGION)
    return _spec("records", [{"arn": "records/db", "alias": "db"}], **cluster)


def ambiguous_suffix(**cluster: Any) -> dict[str, Any]:
    """A partial ARN whose name ends like a suffix (``billing/db-master``)."""
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:exports/db-master"
    return _spec("exports", [{"arn": arn, "alias": "db"}], **cluster)


SPECS: dict[str, Callable[..., dict[str, Any]]] = {
    "irsa-one-secret": irsa_one_secret,
    "pod-identity-many": pod_identity_many,
    "jmes": jmes_keys,
    "kms": kms_key,
    "sync": sync_many_keys,
    "statefulset": statefulset_two_containers,
    "long-names": long_names,
    "govcloud": govcloud,
    "ambiguous-suffix": ambiguous_suffix,
}

#: Secret names each spec reads (created in moto before an apply is verified).
SECRETS: dict[str, list[str]] = {
    "irsa-one-secret": ["dcp-db-password"],
    "pod-identity-many": ["ledger/db", "ledger/api", "ledger/token"],
    "jmes": ["reports/warehouse"],
    "kms": ["payments/stripe"],
    "sync": ["billing/db", "billing/api"],
    "statefulset": ["queue/broker"],
    "long-names": [f"{LONG}/db"],
    "govcloud": ["records/db"],
    "ambiguous-suffix": ["exports/db-master"],
}
