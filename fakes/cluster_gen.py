"""Synthetic clusters for tests, the demo and the benchmark.

``generate_cluster`` returns the objects to load into ``FakeKubeApi``, the
matching ``BindingTarget`` list, and for each binding the status and diagnosis
code the join must produce. Pods of one binding share their (read-only) spec
dicts, which keeps 20k pods fast to build and small in memory.
"""

from __future__ import annotations

import gc
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fakes.cluster_ready import system_objects
from secrets_app.health.diagnosis import CATALOGUE
from secrets_app.health.types import BindingTarget, ExpectedSecret

ACCOUNT = "111122223333"
REGION = "eu-west-1"
VOLUME = "secrets-store-inline"
MANAGED = "secrets-store.csi.k8s.io/managed"
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
T0 = "2025-01-01T00:00:00Z"
T1 = "2025-01-01T00:05:00Z"

#: Provider/driver texts per catalogue number (the part after the kubelet wrapper).
CATALOGUE_ERRORS: dict[int, str] = {
    1: "An IAM role must be associated with service account {sa} (namespace: {ns})",
    2: "operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 403, "
    "RequestID: 5f1e, api error AccessDenied: Not authorized to perform "
    "sts:AssumeRoleWithWebIdentity",
    3: "Failed to fetch secret from all regions: {arn}: operation error Secrets Manager: "
    "GetSecretValue, https response error StatusCode: 400, RequestID: 9c2a, api error "
    "AccessDeniedException: User: arn:aws:sts::{acct}:assumed-role/{sa}/token is not "
    "authorized to perform: secretsmanager:GetSecretValue on resource: {arn} because no "
    "identity-based policy allows the secretsmanager:GetSecretValue action",
    4: "Failed to fetch secret from all regions: {arn}: operation error Secrets Manager: "
    "GetSecretValue, api error AccessDeniedException: Access to KMS is not allowed",
    5: "Failed to fetch secret from all regions: {arn}: operation error Secrets Manager: "
    "GetSecretValue, api error ResourceNotFoundException: Secrets Manager can't find the "
    "specified secret.",
    6: "ARN region must match region us-east-1: {arn}",
    7: "Failed to fetch secret from all regions: {arn}",
    8: "failed to get AWS config from pod identity agent: connect: connection refused",
    9: "serviceAccount.tokens not provided",
    10: "failed to get secretproviderclass {ns}/{spc}, error: "
    'SecretProviderClass.secrets-store.csi.x-k8s.io "{spc}" not found',
    11: 'error connecting to provider "aws": provider not found: provider "aws"',
    12: "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers",
    13: "failed to get data in spc {ns}/{spc} for secret {secret}, err: file matching "
    "objectName db-password not found in the pod",
    14: "failed to get data in spc {ns}/{spc} for secret {secret}, err: forbidden error: "
    "secrets is forbidden; install the driver with syncSecret.enabled=true",
    15: "Failed to fetch secret from all regions: {arn}: api error AccessDeniedException: "
    "User: arn:aws:sts::999988887777:assumed-role/{sa}/token is not authorized to perform: "
    "secretsmanager:GetSecretValue on resource: {arn} because no resource-based policy "
    "allows the secretsmanager:GetSecretValue action",
    16: "invalid parameters: /app/{sa}/db-password",
}
SYNC_NUMBERS = frozenset({13, 14})

STATIC_MODES = (
    "healthy",
    "pending",
    "no_pods",
    "missing_annotation",
    "wrong_annotation",
    "wrong_class",
    "spc_missing",
    "sa_missing",
    "synced_secret_missing",
    "degraded",
)
CATALOGUE_MODES = tuple(f"catalogue:{n}" for n in sorted(CATALOGUE_ERRORS))
MODES = STATIC_MODES + CATALOGUE_MODES
DEFAULT_MIX: dict[str, float] = {"healthy": 0.8, "pending": 0.04, "degraded": 0.04} | {
    m: 0.12 / (len(MODES) - 4)
    for m in MODES
    if m not in ("healthy", "pending", "degraded", "no_pods")
}


@dataclass(frozen=True, slots=True)
class Expected:
    status: str
    diagnosis: str | None  # Diagnosis.code


@dataclass(slots=True)
class GeneratedCluster:
    objects: list[dict[str, Any]]
    targets: list[BindingTarget]
    expected: dict[int | str, Expected]
    modes: dict[int | str, str]
    pods: int  # all pods, with and without a secrets-store volume


def kubelet_failed_mount(ns: str, pod: str, provider_error: str, number: int = 0) -> str:
    """The FailedMount text the kubelet records for a provider error."""
    if number == 12:  # the kubelet's own CSI client, before any RPC
        return (
            f'MountVolume.SetUp failed for volume "{VOLUME}" : kubernetes.io/csi: '
            f"mounter.SetUpAt failed to get CSI client: {provider_error}"
        )
    if number == 10:  # the driver fails before calling the provider
        return (
            f'MountVolume.SetUp failed for volume "{VOLUME}" : rpc error: code = Unknown '
            f"desc = {provider_error}"
        )
    return (
        f'MountVolume.SetUp failed for volume "{VOLUME}" : rpc error: code = Unknown desc = '
        f"failed to mount secrets store objects for pod {ns}/{pod}, err: rpc error: code = "
        f"Unknown desc = {provider_error}"
    )


def _modes_for(bindings: int, mix: Mapping[str, float] | Sequence[str] | None, rng) -> list[str]:
    if mix is None:
        mix = DEFAULT_MIX
    if not isinstance(mix, Mapping):
        return [mix[i % len(mix)] for i in range(bindings)]  # deterministic, for tests
    total = sum(mix.values())
    modes: list[str] = []
    for mode, weight in mix.items():
        modes += [mode] * round(bindings * weight / total)
    modes = (modes + ["healthy"] * bindings)[:bindings]
    rng.shuffle(modes)
    return modes


def generate_cluster(
    *,
    pods: int,
    bindings: int,
    mix: Mapping[str, float] | Sequence[str] | None = None,
    seed: int = 1,
    plain_pod_fraction: float = 0.1,
    sync_fraction: float = 0.5,
    bindings_per_namespace: int = 50,
    team_label: str | None = "team",
    names: Callable[[int], tuple[str, str]] | None = None,
    readiness: str | Sequence[str] | None = "ready",
) -> GeneratedCluster:
    """``pods`` pods in total (a share without any CSI volume), ``bindings`` bindings.

    ``mix`` is either weights per mode or a sequence of modes assigned in turn.
    Namespaces are ``team-000``, ``team-001``, ... (``bindings_per_namespace``
    each) and services ``svc-00000``, ...; ``names(i)`` gives binding ``i``'s
    (namespace, service) instead (the demo's company names). Each namespace
    carries the label ``team_label`` naming itself as its team (``None``: no
    labels). ``readiness`` picks the system objects (``cluster_ready``: the
    driver, provider, agent, CSIDriver, ClusterRoles, Reloader) of a ready
    cluster or one missing something (a kind, or several); ``None``: none.
    """
    # Tens of thousands of new dicts trigger repeated full GC passes over a
    # growing heap; nothing here makes reference cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        generated = _generate(
            pods,
            bindings,
            mix,
            seed,
            plain_pod_fraction,
            sync_fraction,
            team_label,
            names or _numbered(bindings_per_namespace),
        )
        if readiness is not None:
            kinds = (readiness,) if isinstance(readiness, str) else tuple(readiness)
            generated.objects += system_objects(*(k for k in kinds if k != "ready"))
        return generated
    finally:
        if was_enabled:
            gc.enable()


def _numbered(per_namespace: int) -> Callable[[int], tuple[str, str]]:
    return lambda i: (f"team-{i // per_namespace:03d}", f"svc-{i:05d}")


def _generate(
    pods, bindings, mix, seed, plain_pod_fraction, sync_fraction, team_label, names
) -> GeneratedCluster:
    rng = random.Random(seed)
    modes = _modes_for(bindings, mix, rng)
    wants_pods = [i for i, m in enumerate(modes) if m not in ("no_pods", "sa_missing")]
    csi_pods = round(pods * (1 - plain_pod_fraction)) if wants_pods else 0
    counts = [0] * bindings
    for k in range(csi_pods):
        counts[wants_pods[k % len(wants_pods)]] += 1

    gen = _Builder(rng)
    places = [names(i) for i in range(bindings)]
    namespaces = sorted({ns for ns, _ in places})
    gen.objects += [namespace(ns, {team_label: ns} if team_label else None) for ns in namespaces]
    if not namespaces:
        gen.objects.append(namespace("default"))
    out = GeneratedCluster(gen.objects, [], {}, {}, pods)
    for i, mode in enumerate(modes):
        ns, app = places[i]
        number = int(mode.split(":")[1]) if mode.startswith("catalogue:") else 0
        sync = number in SYNC_NUMBERS or mode == "synced_secret_missing"
        sync = sync or rng.random() < sync_fraction
        target, expected = gen.binding(i, ns, app, mode, counts[i], sync)
        out.targets.append(target)
        out.expected[target.id] = expected
        out.modes[target.id] = mode
    plain_ns = namespaces[0] if namespaces else "default"
    for k in range(pods - csi_pods):
        gen.plain_pod(plain_ns, k)
    return out


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.objects: list[dict[str, Any]] = []
        self.serial = 0

    def uid(self) -> str:
        self.serial += 1
        return f"{self.serial:08x}-0000-4000-8000-{self.serial:012x}"

    def binding(
        self, i: int, ns: str, app: str, mode: str, n_pods: int, sync: bool
    ) -> tuple[BindingTarget, Expected]:
        spc = f"{app}-secrets"
        role = f"arn:aws:iam::{ACCOUNT}:role/eks-{ns}-{app}"
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{ns}/{app}/db-AbCdEf"
        secret_name = f"{app}-db" if sync else ""
        number = int(mode.split(":")[1]) if mode.startswith("catalogue:") else 0
        target = BindingTarget(
            id=i + 1,
            namespace=ns,
            service_account=app,
            secret_provider_class=spc,
            workload_kind="Deployment",
            workload_name=app,
            role_arn=role,
            synced_secret_names=(secret_name,) if sync else (),
            secrets=(ExpectedSecret(arn, f"{ns}/{app}/db", "db-password"),),
        )
        if mode != "sa_missing":
            annotations = {}
            if mode == "wrong_annotation":
                annotations[ROLE_ANNOTATION] = role + "-old"
            elif mode not in ("missing_annotation", "catalogue:1"):
                annotations[ROLE_ANNOTATION] = role
            self.objects.append(
                {
                    "kind": "ServiceAccount",
                    "metadata": {"name": app, "namespace": ns, "annotations": annotations},
                }
            )
        if mode != "spc_missing":
            self.objects.append(_spc(ns, spc, arn, secret_name))
        mounted_class = spc + "-typo" if mode == "wrong_class" else spc
        spec = _pod_spec(app, mounted_class)
        self.objects.append(_deployment(ns, app, spec))
        if (
            sync
            and n_pods
            and mode not in ("synced_secret_missing",)
            and number not in SYNC_NUMBERS
        ):
            self.objects.append(_synced_secret(ns, secret_name, spc))

        # Per pod: "mounted", "failing" (FailedMount event), "waiting", or "sync" (mounted
        # plus a FailedToCreateSecret event).
        if mode in ("healthy", "synced_secret_missing"):
            states = ["mounted"] * n_pods
        elif mode in ("pending", "missing_annotation", "wrong_annotation"):
            states = ["waiting"] * n_pods
        elif mode == "degraded":
            states = ["mounted" if k % 2 == 0 else "failing" for k in range(n_pods)]
        elif number in SYNC_NUMBERS:
            states = ["sync"] * n_pods
        else:  # catalogue FailedMount, wrong_class, spc_missing
            states = ["failing"] * n_pods
        error_number = number or (3 if mode == "degraded" else 10)
        objects = [{"id": arn, "version": "a1b2c3d4-0000-4000-8000-000000000001"}]
        rs_hash = f"{self.rng.getrandbits(32):08x}"[:9]
        for k, state in enumerate(states):
            pod = f"{app}-{rs_hash}-{k:05x}"
            uid = self.uid()
            phase = "Running" if state in ("mounted", "sync") else "Pending"
            self.objects.append(_pod(ns, pod, uid, app, rs_hash, spec, phase))
            if state in ("mounted", "sync"):
                self.objects.append(_spc_pod_status(ns, pod, uid, mounted_class, objects, k))
            if state in ("failing", "sync"):
                text = CATALOGUE_ERRORS[error_number].format(
                    sa=app, ns=ns, arn=arn, acct=ACCOUNT, spc=mounted_class, secret=secret_name
                )
                if state == "failing":
                    message, reason = (
                        kubelet_failed_mount(ns, pod, text, error_number),
                        "FailedMount",
                    )
                else:
                    message, reason = text, "FailedToCreateSecret"
                self.objects.append(_event(ns, pod, uid, reason, message, k))
        return target, _expected(mode, number, n_pods)

    def plain_pod(self, ns: str, k: int) -> None:
        pod = f"plain-{k:06d}"
        uid = self.uid()
        spec = {
            "serviceAccountName": "default",
            "containers": [{"name": "app", "image": "registry.example/app:1.0"}],
            "volumes": [{"name": "config", "configMap": {"name": "app-config"}}],
        }
        obj = _pod(ns, pod, uid, "plain", "0", spec, "Running")
        self.objects.append(obj)
        if k % 50 == 0:  # a FailedMount that is not ours: must be ignored
            message = (
                'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found'
            )
            self.objects.append(_event(ns, pod, uid, "FailedMount", message, k))
        if k % 100 == 0:  # an ordinary Secret with data: never listed with data
            self.objects.append(
                {
                    "kind": "Secret",
                    "metadata": {"name": f"plain-{k:06d}", "namespace": ns},
                    "type": "Opaque",
                    "data": {"token": "c2VjcmV0"},
                }
            )


def _expected(mode: str, number: int, n: int) -> Expected:
    if mode == "sa_missing":
        return Expected("failing", "sa-missing")
    if mode == "missing_annotation":
        return Expected("failing", "sa-annotation-missing")
    if mode == "wrong_annotation":
        return Expected("failing", "sa-annotation-mismatch")
    if mode == "spc_missing":
        return Expected("failing", CATALOGUE[10].code if n else "spc-missing")
    if mode == "catalogue:1" and n == 0:
        return Expected("failing", "sa-annotation-missing")
    if n == 0 or mode in ("pending", "no_pods"):
        return Expected("pending", None)
    if mode == "healthy":
        return Expected("healthy", None)
    if mode == "synced_secret_missing":
        return Expected("degraded", "synced-secret-missing")
    if mode == "wrong_class":
        return Expected("failing", CATALOGUE[10].code)
    if mode == "degraded":  # even pods mount, odd ones fail
        return Expected("degraded", CATALOGUE[3].code) if n >= 2 else Expected("healthy", None)
    return Expected("degraded" if number in SYNC_NUMBERS else "failing", CATALOGUE[number].code)


def namespace(name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A Namespace object, with ``labels`` (e.g. the team label) when given."""
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"kind": "Namespace", "metadata": meta}


def _spc(ns: str, name: str, arn: str, secret_name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "provider": "aws",
        "parameters": {
            "region": REGION,
            "objects": f'- objectName: "{arn}"\n  objectAlias: "db-password"\n',
        },
    }
    if secret_name:
        spec["secretObjects"] = [
            {
                "secretName": secret_name,
                "type": "Opaque",
                "data": [{"objectName": "db-password", "key": "password"}],
            }
        ]
    return {
        "kind": "SecretProviderClass",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


# Parts every pod spec shares (read-only once loaded into the fake).
_MOUNTS = [
    {"name": VOLUME, "mountPath": "/mnt/secrets-store", "readOnly": True},
    {
        "name": "kube-api-access",
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        "readOnly": True,
    },
]
_PORTS = [{"containerPort": 8080, "protocol": "TCP"}]
_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}}
_TOKEN_VOLUME = {
    "name": "kube-api-access",
    "projected": {
        "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]
    },
}
_NODE_LABELS = [{"internal.secrets-store.csi.k8s.io/node-name": f"node-{n}"} for n in range(7)]
_STATUS = {phase: {"phase": phase, "startTime": T0} for phase in ("Running", "Pending")}


def _pod_spec(app: str, spc: str) -> dict[str, Any]:
    csi = {
        "driver": "secrets-store.csi.k8s.io",
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": spc},
    }
    container = {
        "name": "app",
        "image": f"registry.example/{app}:1.4.2",
        "ports": _PORTS,
        "resources": _RESOURCES,
        "volumeMounts": _MOUNTS,
    }
    return {
        "serviceAccountName": app,
        "containers": [container],
        "volumes": [_TOKEN_VOLUME, {"name": VOLUME, "csi": csi}],
    }


def _pod(ns, name, uid, app, rs_hash, spec, phase) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid,
            "labels": {"app": app, "pod-template-hash": rs_hash},
            "creationTimestamp": T0,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-{rs_hash}",
                    "uid": uid,
                    "controller": True,
                }
            ],
        },
        "spec": spec,
        "status": _STATUS[phase],
    }


def _spc_pod_status(ns, pod, uid, spc, objects, k) -> dict[str, Any]:
    return {
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": f"{pod}-{ns}-{spc}",
            "namespace": ns,
            "labels": _NODE_LABELS[k % len(_NODE_LABELS)],
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": pod, "uid": uid}],
        },
        "status": {
            "mounted": True,
            "podName": pod,
            "secretProviderClassName": spc,
            "targetPath": f"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/{VOLUME}/mount",
            "objects": objects,
        },
    }


def _event(ns, pod, uid, reason, message, k) -> dict[str, Any]:
    return {
        "kind": "Event",
        "metadata": {"name": f"{pod}.{k:016x}", "namespace": ns, "creationTimestamp": T0},
        "involvedObject": {
            "kind": "Pod",
            "namespace": ns,
            "name": pod,
            "uid": uid,
            "apiVersion": "v1",
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 3,
        "firstTimestamp": T0,
        "lastTimestamp": T1,
        "source": {
            "component": "kubelet" if reason == "FailedMount" else "csi-secrets-store-controller"
        },
    }


def _synced_secret(ns: str, name: str, spc: str) -> dict[str, Any]:
    return {
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {MANAGED: "true", "secrets-store.csi.k8s.io/used": "true"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": spc, "uid": "x"}
            ],
        },
        "type": "Opaque",
        "data": {"password": "c2VjcmV0LXZhbHVl"},
    }


def _deployment(ns: str, app: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": pod_spec},
        },
    }


def targets_to_json(targets: list[BindingTarget]) -> str:
    return json.dumps([asdict(t) for t in targets])


def targets_from_json(text: str) -> list[BindingTarget]:
    rows = json.loads(text)
    return [
        BindingTarget(
            **{
                **r,
                "synced_secret_names": tuple(r["synced_secret_names"]),
                "secrets": tuple(ExpectedSecret(**x) for x in r["secrets"]),
            }
        )
        for r in rows
    ]
