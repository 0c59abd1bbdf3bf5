"""What a cluster runs for the Secrets Store CSI driver to work, as fake objects.

``system_objects(*kinds)`` gives the DaemonSets (driver, AWS provider, EKS Pod
Identity agent), the CSIDriver, the driver's ClusterRoles and Stakater
Reloader of a cluster that is ready, or of one missing one thing. Shaped
like what the upstream charts install (secrets-store-csi-driver with the
release name the AWS docs use, csi-secrets-store).
"""

from __future__ import annotations

from typing import Any

SYSTEM_NAMESPACE = "kube-system"
DRIVER_DAEMONSET = "csi-secrets-store-secrets-store-csi-driver"
PROVIDER_DAEMONSET = "csi-secrets-store-provider-aws"
AGENT_DAEMONSET = "eks-pod-identity-agent"
SYNC_ROLE = "secretprovidersyncing-role"
RELOADER = "reloader-reloader"
RELOADER_NAMESPACE = "reloader"
SYSTEM_NAMESPACES = (SYSTEM_NAMESPACE, RELOADER_NAMESPACE)
NODES = 7

#: The clusters the generator can make: ready, or missing one thing.
READINESS_KINDS = (
    "ready",
    "no_rotation",
    "no_sync_rbac",
    "no_token_request",
    "no_pod_identity_agent",
    "no_driver",
    "no_provider",
    "driver_not_ready",
    "no_reloader",
)


def _daemonset(name: str, containers: list[dict[str, Any]], desired: int, ready: int) -> dict:
    labels = {"app": name}
    return {
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": SYSTEM_NAMESPACE, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
        },
        "status": {
            "currentNumberScheduled": desired,
            "desiredNumberScheduled": desired,
            "numberAvailable": ready,
            "numberReady": ready,
            "numberMisscheduled": 0,
        },
    }


def driver_daemonset(*, rotation: bool = True, desired: int = NODES, ready: int = NODES) -> dict:
    args = [
        "--endpoint=$(CSI_ENDPOINT)",
        "--nodeid=$(KUBE_NODE_NAME)",
        "--provider-volume=/var/run/secrets-store-csi-providers",
        "--metrics-addr=:8095",
    ]
    if rotation:
        args += ["--enable-secret-rotation=true", "--rotation-poll-interval=2m"]
    registry = "registry.k8s.io/csi-secrets-store"
    containers = [
        {
            "name": "node-driver-registrar",
            "image": "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0",
        },
        {"name": "secrets-store", "image": f"{registry}/driver:v1.5.3", "args": args},
        {"name": "liveness-probe", "image": "registry.k8s.io/sig-storage/livenessprobe:v2.15.0"},
    ]
    return _daemonset(DRIVER_DAEMONSET, containers, desired, ready)


def provider_daemonset() -> dict:
    image = "public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:2.0.0"
    containers = [
        {
            "name": "provider-aws-installer",
            "image": image,
            "args": ["--provider-volume=/var/run/secrets-store-csi-providers"],
        }
    ]
    return _daemonset(PROVIDER_DAEMONSET, containers, NODES, NODES)


def agent_daemonset() -> dict:
    image = "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/eks-pod-identity-agent:0.1.29"
    containers = [{"name": "eks-pod-identity-agent", "image": image, "args": ["server"]}]
    return _daemonset(AGENT_DAEMONSET, containers, NODES, NODES)


def csi_driver(*, token_request: bool = True) -> dict:
    spec: dict[str, Any] = {
        "attachRequired": False,
        "podInfoOnMount": True,
        "volumeLifecycleModes": ["Ephemeral"],
    }
    if token_request:
        spec["tokenRequests"] = [{"audience": "sts.amazonaws.com"}]
    return {"kind": "CSIDriver", "metadata": {"name": "secrets-store.csi.k8s.io"}, "spec": spec}


def _cluster_role(name: str, rules: list[dict[str, Any]]) -> dict:
    return {"kind": "ClusterRole", "metadata": {"name": name}, "rules": rules}


def cluster_roles(*, sync: bool = True) -> list[dict]:
    roles = [
        _cluster_role(
            "secretproviderclasses-role",
            [
                {
                    "apiGroups": ["secrets-store.csi.x-k8s.io"],
                    "resources": ["secretproviderclasses"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        ),
        _cluster_role(
            "secretproviderrotation-role",
            [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}],
        ),
        # Any cluster has unrelated roles; the view role reads Secrets but cannot write them.
        _cluster_role(
            "view",
            [{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list"]}],
        ),
    ]
    if sync:
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        roles.append(
            _cluster_role(
                SYNC_ROLE, [{"apiGroups": [""], "resources": ["secrets"], "verbs": verbs}]
            )
        )
    return roles


def reloader_deployment(namespace: str = RELOADER_NAMESPACE) -> dict:
    labels = {"app": "reloader", "group": "com.stakater.platform", "provider": "stakater"}
    return {
        "kind": "Deployment",
        "metadata": {"name": RELOADER, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"app": "reloader"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "reloader", "image": "ghcr.io/stakater/reloader:v1.4.0"}
                    ]
                },
            },
        },
    }


def system_objects(*kinds: str) -> list[dict]:
    """The system objects of a cluster that is ready, or missing what each
    of ``kinds`` (``READINESS_KINDS``) says: ``system_objects("no_rotation",
    "driver_not_ready")``."""
    unknown = set(kinds) - set(READINESS_KINDS)
    if unknown:
        raise ValueError(f"unknown readiness kinds {sorted(unknown)}: use {READINESS_KINDS}")
    lacks = set(kinds)
    objects: list[dict] = []
    if "no_driver" not in lacks:
        ready = NODES - 2 if "driver_not_ready" in lacks else NODES
        objects.append(driver_daemonset(rotation="no_rotation" not in lacks, ready=ready))
    if "no_provider" not in lacks:
        objects.append(provider_daemonset())
    if "no_pod_identity_agent" not in lacks:
        objects.append(agent_daemonset())
    objects.append(csi_driver(token_request="no_token_request" not in lacks))
    objects += cluster_roles(sync="no_sync_rbac" not in lacks)
    if "no_reloader" not in lacks:
        objects.append(reloader_deployment())
    # No Namespace objects: the generated clusters' namespace counts stay theirs.
    return objects
