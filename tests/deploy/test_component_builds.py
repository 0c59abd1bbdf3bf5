"""The rendered deploy folder, built by real ``kubectl kustomize`` in every
common layout of a service's kustomization, for every spec of the table:
the workload runs as the built ServiceAccount, mounts the built class and
carries the env vars, all in one namespace; the objects pass
``kubernetes-validate`` (strict) and the class the CSI driver's CRD schema.

The layouts (``kustomize_layouts.LAYOUTS``): the workload names its
namespace, or the kustomization sets it (or moves it to another one); a
``namePrefix``/``nameSuffix``; common labels; a workload that already has
volumes, mounts and env; a cluster overlay above the service. The README's
binding-spec section names them."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from secrets_app.rendering import BindingNames, BindingSpec, render_binding
from secrets_app.rendering.manifests import WORKLOAD_ANNOTATION
from secrets_app.rendering.names import CSI_DRIVER
from tests.deploy.binding_specs import SPECS
from tests.deploy.kustomize_layouts import (
    COMPONENT,
    LAYOUTS,
    BuildFailed,
    Layout,
    kustomize,
    workload,
    write_component,
    write_yaml,
)
from tests.rendering.rendering_support import SPC_SCHEMA, parse_hcl

K8S_VERSION = "1.33"
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


@pytest.mark.parametrize("layout_name", sorted(LAYOUTS))
@pytest.mark.parametrize("spec_name", sorted(SPECS))
def test_the_component_builds_into_a_working_workload(spec_name, layout_name, tmp_path):
    layout = LAYOUTS[layout_name]
    # The request names the layout's namePrefix/nameSuffix, as its form asks.
    data = {**SPECS[spec_name](), "name_prefix": layout.prefix, "name_suffix": layout.suffix}
    spec = BindingSpec.from_dict(data)
    names = BindingNames.from_spec(spec)
    objects = kustomize(layout.write(spec, names, tmp_path))

    assert sorted(o["kind"] for o in objects) == sorted(
        ["ServiceAccount", "SecretProviderClass", names.workload_kind]
    )
    sa, spc = _one(objects, "ServiceAccount"), _one(objects, "SecretProviderClass")
    built = _one(objects, names.workload_kind)
    namespace = layout.namespace or spec.namespace
    assert {o["metadata"]["namespace"] for o in objects} == {namespace}
    # Renamed by the layout, and every reference follows: the names the
    # binding records (and the sweep looks for) are the built ones.
    assert sa["metadata"]["name"] == names.service_account
    assert spc["metadata"]["name"] == names.secret_provider_class
    assert built["metadata"]["name"] == names.workload_name
    assert layout.prefix + names.component_service_account + layout.suffix == sa["metadata"]["name"]
    for obj in objects:
        assert layout.labels.items() <= obj["metadata"].get("labels", {}).items()

    pod = built["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == sa["metadata"]["name"]
    _check_volume(pod, names, spc["metadata"]["name"], layout)
    _check_containers(pod, names, layout)
    _check_identity(spec, names, sa, spc)
    if layout.namespace is None:
        # (A kustomization that moves the service to another namespace than
        # the request names is a wrong request: the trust names the request's.)
        _check_iam_names_the_built_account(spec, names, sa)
    assert sa["metadata"]["annotations"][WORKLOAD_ANNOTATION] == names.component_workload

    kubernetes_validate.validate(sa, K8S_VERSION, strict=True)
    kubernetes_validate.validate(built, K8S_VERSION, strict=True)
    jsonschema.validate(spc, SPC_SCHEMA)


def _check_volume(pod: dict, names: BindingNames, built_class: str, layout: Layout) -> None:
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[names.volume_name]["csi"] == {
        "driver": CSI_DRIVER,
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": built_class},
    }
    assert set(volumes) == {names.volume_name, *(["cache"] if layout.busy else [])}


def _check_containers(pod: dict, names: BindingNames, layout: Layout) -> None:
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == {*names.containers, "log-shipper"}
    # The sidecar the binding does not name is left alone.
    assert set(containers["log-shipper"]) == {"name", "image"}
    wanted_env = {
        k.env: {"secretKeyRef": {"name": k.secret_name, "key": k.key}} for k in names.env_vars
    }
    for name in names.containers:
        container = containers[name]
        assert container["image"] == f"registry.example/{name}:1"
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts[names.volume_name] == {
            "name": names.volume_name,
            "mountPath": names.mount_path,
            "readOnly": True,
        }
        env = container.get("env", [])
        env_names = [e["name"] for e in env]
        assert len(env_names) == len(set(env_names)), env_names
        ours = {e["name"]: e for e in env if e["name"] in wanted_env}
        # Each env var the binding sets has exactly the synced Secret as its
        # source, even where the workload had set it otherwise before.
        assert {n: e["valueFrom"] for n, e in ours.items()} == wanted_env
        assert all(set(e) == {"name", "valueFrom"} for e in ours.values())
        if layout.busy:
            assert {"name": "LOG_LEVEL", "value": "info"} in env
            assert mounts["cache"] == {"name": "cache", "mountPath": "/cache"}
        else:
            assert env_names == list(wanted_env)


def _check_identity(spec: BindingSpec, names: BindingNames, sa: dict, spc: dict) -> None:
    annotations = sa["metadata"].get("annotations", {})
    parameters = spc["spec"]["parameters"]
    if spec.cluster.identity == "irsa":
        assert annotations[ROLE_ANNOTATION] == names.role_arn
        assert "usePodIdentity" not in parameters
    else:
        assert ROLE_ANNOTATION not in annotations
        assert parameters["usePodIdentity"] == "true"
    assert parameters["region"] == spec.cluster.region


def _check_iam_names_the_built_account(spec: BindingSpec, names: BindingNames, sa: dict) -> None:
    """The role trusts the ServiceAccount the build made (not the name in the
    Component's file), and a Pod Identity association names that one."""
    namespace, account = sa["metadata"]["namespace"], sa["metadata"]["name"]
    (tf,) = [t for p, t in render_binding(spec).files["infra"].items() if p.endswith(".tf")]
    hcl = parse_hcl(tf)
    conditions = {
        re.split("[:/]", c["variable"])[-1]: c["values"] for c in _conditions(hcl["data"])
    }
    if spec.cluster.identity == "irsa":
        assert conditions["sub"] == [f"system:serviceaccount:{namespace}:{account}"]
        return
    assert conditions["kubernetes-service-account"] == [account]
    assert conditions["kubernetes-namespace"] == [namespace]
    (assoc,) = [
        next(iter(r["aws_eks_pod_identity_association"].values()))
        for r in hcl["resource"]
        if "aws_eks_pod_identity_association" in r
    ]
    assert (assoc["namespace"], assoc["service_account"]) == (namespace, account)


def _conditions(node: Any) -> list[dict[str, Any]]:
    """Every ``condition`` block under ``node`` (parsed HCL)."""
    if isinstance(node, list):
        return [c for item in node for c in _conditions(item)]
    if not isinstance(node, dict):
        return []
    if {"test", "variable", "values"} <= node.keys():
        return [node]
    return [c for value in node.values() for c in _conditions(value)]


GUIDE = BindingSpec.from_dict(SPECS["irsa-one-secret"]())
GUIDE_NAMES = BindingNames.from_spec(GUIDE)


def test_a_missing_workload_fails_the_build_instead_of_passing_silently(tmp_path):
    service = tmp_path / "service"
    write_component(GUIDE, service / COMPONENT)
    other = workload(GUIDE_NAMES, namespace=None)
    other["metadata"]["name"] = "someone-else"
    write_yaml(service / "workload.yaml", other)
    write_yaml(
        service / "kustomization.yaml",
        {"namespace": "deploy", "resources": ["workload.yaml"], "components": [COMPONENT]},
    )
    with pytest.raises(BuildFailed, match="nothing selected by Deployment"):
        kustomize(service)


def test_only_the_named_workload_is_patched(tmp_path):
    """The target's name is a regular expression to kustomize: a dot in the
    workload's name must not match any character."""
    data = SPECS["irsa-one-secret"]()
    data["workload"]["name"] = "api.v2"
    spec = BindingSpec.from_dict(data)
    names = BindingNames.from_spec(spec)
    service = tmp_path / "service"
    write_component(spec, service / COMPONENT)
    decoy = workload(names, namespace=None)
    decoy["metadata"]["name"] = "apixv2"
    write_yaml(service / "workload.yaml", workload(names, namespace=None), decoy)
    write_yaml(
        service / "kustomization.yaml",
        {"namespace": "deploy", "resources": ["workload.yaml"], "components": [COMPONENT]},
    )
    built = {o["metadata"]["name"]: o for o in kustomize(service) if o["kind"] == "Deployment"}
    assert built["api.v2"]["spec"]["template"]["spec"]["serviceAccountName"] == (
        names.service_account
    )
    assert "serviceAccountName" not in built["apixv2"]["spec"]["template"]["spec"]


def test_two_services_in_one_kustomization_keep_their_own_references(tmp_path):
    """Each Component adds the same nameReference entry: kustomize merges them."""
    specs = [BindingSpec.from_dict(SPECS[name]()) for name in ("irsa-one-secret", "jmes")]
    folder = tmp_path / "team"
    docs = []
    for spec in specs:
        write_component(spec, folder / spec.service)
        docs.append(workload(BindingNames.from_spec(spec), namespace=None))
    write_yaml(folder / "workloads.yaml", *docs)
    write_yaml(
        folder / "kustomization.yaml",
        {
            "namespace": "deploy",
            "namePrefix": "p-",
            "resources": ["workloads.yaml"],
            "components": [s.service for s in specs],
        },
    )
    built = {(o["kind"], o["metadata"]["name"]): o for o in kustomize(folder)}
    for spec in specs:
        names = BindingNames.from_spec(spec)
        pod = built[("Deployment", f"p-{names.workload_name}")]["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == f"p-{names.service_account}"
        (volume,) = pod["volumes"]
        assert volume["csi"]["volumeAttributes"]["secretProviderClass"] == (
            f"p-{names.secret_provider_class}"
        )
        assert ("SecretProviderClass", f"p-{names.secret_provider_class}") in built
