"""Cluster readiness: what a cluster must run before a binding can work there.

Judged from what one sweep listed (``collector.ClusterSnapshot``) and what
the cluster's bindings need, as a checklist stored with the sweep
(``ClusterSweep.readiness``). Each check is a dict::

    {code, ok, present, title, cause, fix}

``present`` says whether the component is there at all (the request form
warns from it: a new request may need what no binding needs yet); ``ok``
whether the cluster is fine for the bindings it has. A check that is only
informational (rotation) is always ``ok``.

Names follow the upstream charts: the Secrets Store CSI driver's DaemonSet
runs a container named ``secrets-store`` (the chart names the DaemonSet after
the release, ``csi-secrets-store-secrets-store-csi-driver`` with the release
the AWS docs use; the plain manifests ``csi-secrets-store``), and only with
``syncSecret.enabled=true`` does the chart create the ClusterRole
``secretprovidersyncing-role`` that lets it create and patch Secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from secrets_app.health.collector import CSI_DRIVER, ClusterSnapshot, DaemonSetInfo

DRIVER_CONTAINER = "secrets-store"
DRIVER_NAMES = frozenset(
    {"csi-secrets-store", "csi-secrets-store-secrets-store-csi-driver", "secrets-store-csi-driver"}
)
PROVIDER_NAMES = frozenset(
    {"csi-secrets-store-provider-aws", "secrets-store-csi-driver-provider-aws"}
)
PROVIDER_IMAGE = "secrets-store-csi-driver-provider-aws"
AGENT_NAME = "eks-pod-identity-agent"
AGENT_NAMESPACE = "kube-system"
# The chart's name for it, and an older spelling still found in clusters.
SYNC_ROLE_NAMES = frozenset({"secretprovidersyncing-role", "secretproviderclasses-syncing-role"})
TOKEN_AUDIENCE = "sts.amazonaws.com"  # noqa: S105 - an audience, not a secret
ROTATION_FLAG = "--enable-secret-rotation"
INTERVAL_FLAG = "--rotation-poll-interval"
DEFAULT_ROTATION_INTERVAL = "2m"
#: Nodes named in a cause; the rest are counted.
MAX_NODES_SHOWN = 5

# Codes (stable: the request form and tests refer to them).
DRIVER = "driver"
DRIVER_NODES = "driver-nodes"
SYNC = "sync"
ROTATION = "rotation"
PROVIDER = "aws-provider"
TOKEN = "csidriver-token"  # noqa: S105 - a check code
AGENT = "pod-identity-agent"
RELOADER = "reloader"
UNREADABLE = "unreadable"


@dataclass(slots=True)
class Needs:
    """What the cluster's live bindings ask of it."""

    syncs: bool = False
    pod_identity: bool = False
    reloader: bool = False
    # nodes that run pods of bound workloads
    nodes: set[str] = field(default_factory=set)


def _check(code: str, ok: bool, present: bool, title: str, cause: str = "", fix: str = ""):
    return {"code": code, "ok": ok, "present": present, "title": title, "cause": cause, "fix": fix}


def assess(snap: ClusterSnapshot, needs: Needs, *, driver_namespace: str) -> list[dict[str, Any]]:
    """The checklist, in the order a platform team would install things."""
    if snap.readiness_errors:
        # Half a reading would report things missing that are there.
        return [_unreadable(snap.readiness_errors)]
    driver = _driver(snap, driver_namespace)
    checks = [_driver_check(driver, driver_namespace)]
    checks.append(_nodes_check(snap, driver, needs))
    checks.append(_sync_check(snap, needs))
    checks.append(_rotation_check(driver))
    checks.append(_provider_check(snap, driver_namespace))
    checks.append(_token_check(snap))
    checks.append(_agent_check(snap, needs))
    checks.append(_reloader_check(snap, needs))
    return checks


def _unreadable(errors: list[str]) -> dict[str, Any]:
    return _check(
        UNREADABLE,
        False,
        False,
        "Readiness: not known (the portal may not list what it checks)",
        errors[0],
        "Apply deploy/rbac/portal-health-clusterrole.yaml: the portal's ClusterRole needs "
        "list on daemonsets and deployments (apps), csidrivers (storage.k8s.io) and "
        "clusterroles (rbac.authorization.k8s.io).",
    )


def _driver(snap: ClusterSnapshot, namespace: str) -> DaemonSetInfo | None:
    for ds in snap.daemonsets:
        if ds.namespace != namespace:
            continue
        if ds.name in DRIVER_NAMES or any(
            name == DRIVER_CONTAINER and PROVIDER_IMAGE not in image
            for name, image, _ in ds.containers
        ):
            return ds
    return None


def _driver_check(driver: DaemonSetInfo | None, namespace: str) -> dict[str, Any]:
    if driver is not None:
        return _check(DRIVER, True, True, f"Secrets Store CSI driver: DaemonSet {driver.name}")
    return _check(
        DRIVER,
        False,
        False,
        "Secrets Store CSI driver: not installed",
        f"No DaemonSet of the Secrets Store CSI driver in {namespace}: pods cannot mount "
        "any secrets-store volume (kubelet: driver name secrets-store.csi.k8s.io not found).",
        "Install the driver: helm install csi-secrets-store "
        "secrets-store-csi-driver/secrets-store-csi-driver -n kube-system "
        "--set syncSecret.enabled=true (or set PORTAL_DRIVER_NAMESPACE to where it runs).",
    )


def _nodes_check(
    snap: ClusterSnapshot, driver: DaemonSetInfo | None, needs: Needs
) -> dict[str, Any]:
    if driver is None:
        return _check(
            DRIVER_NODES,
            False,
            False,
            "Driver on every node: no driver",
            "No driver DaemonSet, so no node can mount secrets-store volumes.",
            "Install the driver (above); it then runs on every node its tolerations allow.",
        )
    missing: list[str] = []
    on_nodes = snap.daemon_nodes.get((driver.namespace, driver.name))
    if on_nodes is not None and needs.nodes:
        missing = sorted(needs.nodes - on_nodes)
    short = driver.desired - driver.ready
    if not missing and short <= 0 and driver.desired > 0:
        return _check(
            DRIVER_NODES, True, True, f"Driver ready on all {driver.desired} nodes scheduled"
        )
    causes = []
    if driver.desired == 0:
        causes.append("The driver's DaemonSet is scheduled on no node.")
    elif short > 0:
        causes.append(f"{driver.ready} of {driver.desired} driver pods are ready.")
    if missing:
        names = ", ".join(missing[:MAX_NODES_SHOWN])
        more = (
            f" and {len(missing) - MAX_NODES_SHOWN} more" if len(missing) > MAX_NODES_SHOWN else ""
        )
        causes.append(f"Bound workloads run on nodes without a driver pod: {names}{more}.")
    return _check(
        DRIVER_NODES,
        False,
        True,
        "Driver on every node: not everywhere",
        " ".join(causes),
        "Check the driver pods (kubectl -n "
        f"{driver.namespace} get pods -o wide) and give the DaemonSet tolerations and a "
        "nodeSelector that cover the nodes the workloads run on.",
    )


def _sync_check(snap: ClusterSnapshot, needs: Needs) -> dict[str, Any]:
    roles = sorted(SYNC_ROLE_NAMES & snap.secret_writer_roles)
    if roles:
        return _check(SYNC, True, True, f"Secret sync: enabled (ClusterRole {roles[0]})")
    if not needs.syncs:
        return _check(
            SYNC,
            True,
            False,
            "Secret sync: off (no binding syncs a Secret)",
            "The driver has no ClusterRole to write Secrets; requests that sync one will fail.",
            "Upgrade the driver with --set syncSecret.enabled=true before syncing Secrets.",
        )
    return _check(
        SYNC,
        False,
        False,
        "Secret sync: off, and bindings sync Secrets",
        "The driver has no ClusterRole granting create and patch on Secrets "
        "(secretprovidersyncing-role): synced Secrets are never created "
        "(event FailedToCreateSecret, forbidden).",
        "Upgrade the driver's chart with --set syncSecret.enabled=true.",
    )


def rotation_of(driver: DaemonSetInfo | None) -> tuple[bool, str]:
    """(enabled, poll interval) from the driver container's arguments."""
    if driver is None:
        return False, ""
    enabled, interval = False, DEFAULT_ROTATION_INTERVAL
    for name, _, args in driver.containers:
        if name != DRIVER_CONTAINER:
            continue
        for arg in args:
            flag, _, value = arg.partition("=")
            if flag == ROTATION_FLAG:
                enabled = value.lower() in ("", "true", "1")
            elif flag == INTERVAL_FLAG and value:
                interval = value
    return enabled, interval if enabled else ""


def _rotation_check(driver: DaemonSetInfo | None) -> dict[str, Any]:
    enabled, interval = rotation_of(driver)
    if enabled:
        return _check(ROTATION, True, True, f"Secret rotation: enabled, every {interval}")
    # Informational: mounts still work; pods keep the value they started with.
    return _check(
        ROTATION,
        True,
        False,
        "Secret rotation: disabled (informational)",
        "The driver fetches secrets only when a pod starts: after a rotation in Secrets "
        "Manager pods keep the old version until they restart.",
        "Upgrade the driver's chart with --set enableSecretRotation=true "
        "(and rotationPollInterval), or restart workloads after each rotation.",
    )


def _provider_check(snap: ClusterSnapshot, namespace: str) -> dict[str, Any]:
    for ds in snap.daemonsets:
        if ds.name in PROVIDER_NAMES or any(
            PROVIDER_IMAGE in image for _, image, _ in ds.containers
        ):
            return _check(PROVIDER, True, True, f"AWS provider: DaemonSet {ds.name}")
    return _check(
        PROVIDER,
        False,
        False,
        "AWS provider: not installed",
        f"No csi-secrets-store-provider-aws DaemonSet in {namespace}: mounts fail with "
        'provider not found: provider "aws".',
        "Install the AWS provider: helm install -n kube-system secrets-provider-aws "
        "aws-secrets-manager/secrets-store-csi-driver-provider-aws.",
    )


def _token_check(snap: ClusterSnapshot) -> dict[str, Any]:
    audiences = snap.csi_drivers.get(CSI_DRIVER)
    if audiences is not None and TOKEN_AUDIENCE in audiences:
        return _check(TOKEN, True, True, f"CSIDriver token request for {TOKEN_AUDIENCE}")
    what = (
        f"The CSIDriver {CSI_DRIVER} does not exist"
        if audiences is None
        else f"The CSIDriver {CSI_DRIVER} asks for no token with audience {TOKEN_AUDIENCE}"
    )
    return _check(
        TOKEN,
        False,
        False,
        f"CSIDriver token request for {TOKEN_AUDIENCE}: missing",
        f'{what}: the AWS provider v3+ fails with token for audience "{TOKEN_AUDIENCE}" not found.',
        "Upgrade the driver's chart with "
        '--set tokenRequests[0].audience="sts.amazonaws.com" (the CSIDriver spec.tokenRequests).',
    )


def _agent_check(snap: ClusterSnapshot, needs: Needs) -> dict[str, Any]:
    present = any(
        ds.name == AGENT_NAME and ds.namespace == AGENT_NAMESPACE for ds in snap.daemonsets
    )
    if present:
        return _check(AGENT, True, True, "EKS Pod Identity agent: running")
    if not needs.pod_identity:
        return _check(AGENT, True, False, "EKS Pod Identity agent: not installed (not needed)")
    return _check(
        AGENT,
        False,
        False,
        "EKS Pod Identity agent: missing",
        "This cluster or a binding uses EKS Pod Identity, and no eks-pod-identity-agent "
        "DaemonSet runs in kube-system: mounts fail with failed to get AWS config from "
        "pod identity agent.",
        "Add the add-on: aws eks create-addon --cluster-name <cluster> "
        "--addon-name eks-pod-identity-agent.",
    )


def _reloader_check(snap: ClusterSnapshot, needs: Needs) -> dict[str, Any]:
    if snap.reloaders:
        return _check(RELOADER, True, True, f"Stakater Reloader: {snap.reloaders[0]}")
    if not needs.reloader:
        return _check(RELOADER, True, False, "Stakater Reloader: not installed (not needed)")
    return _check(
        RELOADER,
        False,
        False,
        "Stakater Reloader: missing",
        "A binding asks for its pods to restart when its synced Secret changes, and no "
        "Reloader Deployment runs: the annotation does nothing.",
        "Install Reloader: helm install reloader stakater/reloader "
        "(or set PORTAL_RELOADER_SELECTOR to its labels).",
    )


def failing(checks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in checks if not c.get("ok")]


def by_code(checks: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in checks}


def rotation_enabled(checks: Iterable[dict[str, Any]]) -> bool | None:
    """Whether the driver rotates mounted secrets (None: not known), for the
    stale-version diagnosis: with rotation off pods keep what they started with."""
    check = by_code(checks).get(ROTATION)
    return None if check is None else bool(check["present"])
