"""The guide's own example renders to the guide's YAML and IAM documents."""

from __future__ import annotations

import json

import yaml

from secrets_app.rendering import (
    BindingSpec,
    permissions_policy,
    render_binding,
    trust_policy,
)
from tests.rendering.rendering_support import DATA, guide_data, load_docs

GUIDE_SA, GUIDE_SPC, GUIDE_POD = yaml.safe_load_all((DATA / "guide_manifests.yaml").read_text())
GUIDE_IAM = json.loads((DATA / "guide_iam.json").read_text())
DEPLOY_DIR = "clusters/janus-dev/deploy/data-access-service/secrets"


def _render():
    spec = BindingSpec.from_dict(guide_data())
    return spec, render_binding(spec)


def _without_portal_metadata(doc: dict) -> dict:
    """Drop the labels and annotations the portal adds for its own bookkeeping."""
    doc = json.loads(json.dumps(doc))
    meta = doc["metadata"]
    meta.pop("labels", None)
    annotations = {
        k: v for k, v in meta.pop("annotations", {}).items() if not k.startswith("secrets-access")
    }
    if annotations:
        meta["annotations"] = annotations
    return doc


def test_it_writes_the_expected_files():
    _, rendered = _render()
    assert sorted(rendered.files["deploy"]) == [
        f"{DEPLOY_DIR}/deployment-patch.yaml",
        f"{DEPLOY_DIR}/kustomization.yaml",
        f"{DEPLOY_DIR}/kustomizeconfig.yaml",
        f"{DEPLOY_DIR}/secretproviderclass.yaml",
        f"{DEPLOY_DIR}/serviceaccount.yaml",
    ]
    assert list(rendered.files["infra"]) == [
        "iam/287796791794/janus-dev/data-access-service-secrets.tf"
    ]


def test_service_account_matches_the_guide():
    _, rendered = _render()
    sa = load_docs(rendered.files["deploy"])["serviceaccount.yaml"]
    assert _without_portal_metadata(sa) == GUIDE_SA


def test_secret_provider_class_matches_the_guide():
    _, rendered = _render()
    spc = _without_portal_metadata(load_docs(rendered.files["deploy"])["secretproviderclass.yaml"])
    guide = json.loads(json.dumps(GUIDE_SPC))
    ours_params = spc["spec"].pop("parameters")
    guide_params = guide["spec"].pop("parameters")
    assert yaml.safe_load(ours_params.pop("objects")) == yaml.safe_load(guide_params.pop("objects"))
    # The guide relies on the node's region; the portal pins the secret's.
    assert ours_params == {**guide_params, "region": "us-west-2"}
    assert spc == guide


def test_workload_patch_carries_the_guides_pod_parts():
    _, rendered = _render()
    patch = load_docs(rendered.files["deploy"])["deployment-patch.yaml"]
    assert patch["kind"] == "Deployment"
    # No namespace: the Component's target finds the workload by kind and
    # name, wherever its namespace comes from (tests/deploy builds it).
    assert patch["metadata"] == {"name": "data-access-service"}
    ours, guide = patch["spec"]["template"]["spec"], GUIDE_POD["spec"]["template"]["spec"]
    assert ours["serviceAccountName"] == guide["serviceAccountName"]
    assert ours["volumes"] == guide["volumes"]
    (container,) = ours["containers"]
    assert container["name"] == "app"
    # The guide's env var, written to replace whatever the workload had under that name.
    (env,) = container["env"]
    assert env.pop("value") is None and env["valueFrom"].pop("$patch") == "replace"
    assert [env] == guide["containers"][0]["env"]
    assert container["volumeMounts"] == guide["containers"][0]["volumeMounts"]


def test_trust_policy_matches_the_guides_validation_section():
    spec, _ = _render()
    ours = trust_policy(spec)
    guide = GUIDE_IAM["trust"]
    # Sid is a free label (the guide's is empty); everything else is equal.
    for statement in ours["Statement"] + guide["Statement"]:
        statement.pop("Sid")
    assert ours == guide


def test_permission_policy_covers_the_guides_statement():
    spec, _ = _render()
    ours = permissions_policy(spec)
    (guide,) = GUIDE_IAM["permissions"]["Statement"]
    assert ours["Version"] == GUIDE_IAM["permissions"]["Version"]
    (statement,) = ours["Statement"]
    assert statement["Sid"] == guide["Sid"]
    assert statement["Effect"] == guide["Effect"]
    assert guide["Action"] in statement["Action"]
    assert "secretsmanager:DescribeSecret" in statement["Action"]
    assert statement["Resource"] == guide["Resource"]


def test_guide_example_has_no_warnings():
    spec, _ = _render()
    assert spec.warnings == ()


def test_rendering_is_deterministic():
    assert _render()[1].files == _render()[1].files
