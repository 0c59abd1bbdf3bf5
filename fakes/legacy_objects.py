"""Hand-made (not portal-made) Kubernetes objects, as a team would have
written them before the portal: for the import tests and the demo.

Plain dicts for ``FakeKubeApi.add_many``. ``hand_made_binding`` returns a
whole binding (ServiceAccount with its role annotation, an AWS
SecretProviderClass, pods of a Deployment mounting it); the other builders
let tests break any part of it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
CSI_DRIVER = "secrets-store.csi.k8s.io"
ACCOUNT = "287796791794"
REGION = "us-west-2"


def secret_arn(name: str, *, account: str = ACCOUNT, region: str = REGION) -> str:
    suffix = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def role_arn(name: str, *, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def objects_yaml(entries: list[dict[str, Any]]) -> str:
    """The ``objects`` parameter as people write it: a YAML list in a string."""
    return yaml.safe_dump(entries, sort_keys=False)


def service_account(
    namespace: str, name: str, *, role: str | None = None, annotations: dict | None = None
) -> dict[str, Any]:
    notes = dict(annotations or {})
    if role is not None:
        notes[ROLE_ANNOTATION] = role
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if notes:
        meta["annotations"] = notes
    return {"kind": "ServiceAccount", "metadata": meta}


def secret_provider_class(
    namespace: str,
    name: str,
    *,
    objects: Any,
    provider: str = "aws",
    region: str | None = REGION,
    synced: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``objects`` is the parameter as is (a string, or anything hostile), or
    a list of entries that is dumped to YAML."""
    params: dict[str, Any] = {}
    if region is not None:
        params["region"] = region
    params["objects"] = objects_yaml(objects) if isinstance(objects, list) else objects
    params.update(parameters or {})
    spec: dict[str, Any] = {"provider": provider, "parameters": params}
    if synced:
        spec["secretObjects"] = [
            {"secretName": s, "type": "Opaque", "data": [{"objectName": "x", "key": "x"}]}
            for s in synced
        ]
    return {
        "kind": "SecretProviderClass",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def pod(
    namespace: str,
    name: str,
    *,
    service_account_name: str,
    classes: list[str],
    owner: tuple[str, str] | None = None,
    labels: dict[str, str] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    """A pod running as ``service_account_name`` with one secrets-store CSI
    volume per class; ``owner`` is its controller (kind, name)."""
    volumes = [
        {
            "name": f"secrets-{i}",
            "csi": {
                "driver": CSI_DRIVER,
                "readOnly": True,
                "volumeAttributes": {"secretProviderClass": spc},
            },
        }
        for i, spc in enumerate(classes)
    ]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:32],
        "labels": dict(labels or {}),
    }
    if owner is not None:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
        ]
    return {
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "serviceAccountName": service_account_name,
            "containers": [{"name": "app", "image": "registry.example/app:1"}],
            "volumes": [{"name": "cache", "emptyDir": {}}, *volumes],
        },
        "status": {"phase": phase},
    }


def deployment_pods(
    namespace: str,
    deployment: str,
    *,
    service_account_name: str,
    classes: list[str],
    replicas: int = 2,
    template_hash: str = "5d8f7c9b4",
) -> list[dict[str, Any]]:
    """Pods of a Deployment: owned by its ReplicaSet ``<deployment>-<hash>``."""
    return [
        pod(
            namespace,
            f"{deployment}-{template_hash}-{i:05d}",
            service_account_name=service_account_name,
            classes=classes,
            owner=("ReplicaSet", f"{deployment}-{template_hash}"),
            labels={"app": deployment, "pod-template-hash": template_hash},
        )
        for i in range(replicas)
    ]


def statefulset_pods(
    namespace: str, name: str, *, service_account_name: str, classes: list[str], replicas: int = 1
) -> list[dict[str, Any]]:
    return [
        pod(
            namespace,
            f"{name}-{i}",
            service_account_name=service_account_name,
            classes=classes,
            owner=("StatefulSet", name),
        )
        for i in range(replicas)
    ]


def hand_made_binding(
    namespace: str,
    app: str,
    *,
    secrets: list[str] | None = None,
    service_account_name: str | None = None,
    class_name: str | None = None,
    replicas: int = 2,
    account: str = ACCOUNT,
    region: str = REGION,
) -> list[dict[str, Any]]:
    """What the guide would have a team write by hand for ``app``: the
    ServiceAccount and class named ``<app>-secrets``, a Deployment ``app``."""
    sa = service_account_name or f"{app}-secrets"
    spc = class_name or f"{app}-secrets"
    names = secrets or [f"{app}/db-password"]
    entries = [
        {"objectName": secret_arn(n, account=account, region=region), "objectAlias": f"secret-{i}"}
        for i, n in enumerate(names)
    ]
    return [
        service_account(namespace, sa, role=role_arn(f"{app}-irsa", account=account)),
        secret_provider_class(namespace, spc, objects=entries, region=region),
        *deployment_pods(namespace, app, service_account_name=sa, classes=[spc], replicas=replicas),
    ]
