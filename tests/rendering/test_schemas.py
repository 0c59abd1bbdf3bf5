"""Every rendered manifest is valid for Kubernetes 1.33 (and the CRD), every
.tf file parses back to the values put in."""

from __future__ import annotations

import jsonschema
import kubernetes_validate
import pytest
import yaml

from secrets_app.rendering import BindingNames, BindingSpec, render_binding
from secrets_app.rendering.terraform import terraform_blocks
from tests.rendering.rendering_support import (
    SPC_SCHEMA,
    expected_hcl,
    guide_data,
    load_docs,
    minimal_workload,
    parse_hcl,
    pod_identity_data,
    strategic_merge,
)


def _rich_data() -> dict:
    """Several secrets, JMES keys, KMS, sync, two containers, a StatefulSet."""
    data = guide_data(
        workload={"kind": "StatefulSet", "name": "ledger", "containers": ["app", "sidecar"]},
        service="ledger",
        service_account=None,
        role_name=None,
    )
    data["secrets"].append(
        {
            "arn": "ledger/db-credentials",
            "alias": "db",
            "jmes": [
                {"path": "username", "alias": "db-user"},
                {"path": "pass-word", "alias": "db-pass"},
            ],
            "kms_key_arn": "arn:aws:kms:us-west-2:287796791794:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "file_permission": "0440",
            "sync": {
                "secret_name": "ledger-db",
                "type": "kubernetes.io/basic-auth",
                "keys": [
                    {"object": "db-user", "key": "username", "env": "DB_USER"},
                    {"object": "db-pass", "key": "password"},
                ],
            },
        }
    )
    data["secrets"].append(
        {
            "arn": "arn:aws:secretsmanager:us-west-2:287796791794:secret:ledger/api-token-AbC123",
            "alias": "api-token",
            "any_suffix": True,
        }
    )
    return data


CASES = {
    "guide": guide_data,
    "pod_identity": pod_identity_data,
    "rich": _rich_data,
}


@pytest.fixture(params=sorted(CASES))
def rendered(request):
    spec = BindingSpec.from_dict(CASES[request.param]())
    return spec, render_binding(spec)


def test_service_account_is_valid_kubernetes(rendered):
    _, out = rendered
    sa = load_docs(out.files["deploy"])["serviceaccount.yaml"]
    kubernetes_validate.validate(sa, "1.33", strict=True)


def test_patched_workload_is_valid_kubernetes(rendered):
    spec, out = rendered
    docs = load_docs(out.files["deploy"])
    kind = spec.workload.kind
    patch = docs[f"{kind.lower()}-patch.yaml"]
    base = minimal_workload(
        kind, spec.workload.name, spec.namespace, list(spec.workload.containers)
    )
    merged = strategic_merge(base, patch)
    kubernetes_validate.validate(merged, "1.33", strict=True)
    pod = merged["spec"]["template"]["spec"]
    assert {c["name"] for c in pod["containers"]} == set(spec.workload.containers)
    assert all(c["image"] == "example/app:1" for c in pod["containers"])


def test_secret_provider_class_matches_the_crd(rendered):
    _, out = rendered
    spc = load_docs(out.files["deploy"])["secretproviderclass.yaml"]
    jsonschema.validate(spc, SPC_SCHEMA)
    assert all(isinstance(v, str) for v in spc["spec"]["parameters"].values())


def test_kustomization_lists_every_other_file(rendered):
    _, out = rendered
    docs = load_docs(out.files["deploy"])
    kustomization = docs.pop("kustomization.yaml")
    listed = (
        kustomization["resources"]
        + [p["path"] for p in kustomization["patches"]]
        + kustomization["configurations"]
    )
    assert sorted(listed) == sorted(docs)


def test_terraform_parses_back_to_the_values_put_in(rendered):
    spec, out = rendered
    (text,) = out.files["infra"].values()
    blocks = terraform_blocks(spec, BindingNames.from_spec(spec))
    assert parse_hcl(text) == expected_hcl(blocks)


def test_objects_parameter_is_a_yaml_list(rendered):
    spec, out = rendered
    spc = load_docs(out.files["deploy"])["secretproviderclass.yaml"]
    objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    assert [o["objectAlias"] for o in objects] == [s.alias for s in spec.secrets]
