"""Helpers shared by the rendering tests (pure Python, no database)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2.utils import SerializationOptions

from secrets_app.rendering.hcl import Block, Ref
from tests.support.paths import VENDOR

DATA = Path(__file__).parent / "data"
GUIDE_SPEC = json.loads((Path(__file__).parent / "guide_example.json").read_text())
HCL_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
SPC_CRD = yaml.safe_load(
    (VENDOR / "secrets-store.csi.x-k8s.io_secretproviderclasses.yaml").read_text()
)
SPC_SCHEMA = next(v for v in SPC_CRD["spec"]["versions"] if v["name"] == "v1")["schema"][
    "openAPIV3Schema"
]


def guide_data(**changes: Any) -> dict[str, Any]:
    """The guide's example spec (a fresh copy), with top-level keys replaced."""
    data = copy.deepcopy(GUIDE_SPEC)
    data.update(changes)
    return data


def pod_identity_data() -> dict[str, Any]:
    data = guide_data()
    data["cluster"]["identity"] = "pod_identity"
    del data["cluster"]["oidc_issuer"]
    return data


def parse_hcl(text: str) -> dict[str, Any]:
    """Parse with python-hcl2, after checking nothing in the file can interpolate.

    The writer never emits ``${`` or ``%{`` (references are unquoted), so
    their absence from the source proves no template sequence exists; the
    parsed strings are then the values Terraform would see.
    """
    assert "${" not in text and "%{" not in text, text
    return hcl2.loads(text, serialization_options=HCL_OPTIONS)


def expected_hcl(blocks: list[Block]) -> dict[str, Any]:
    """The shape python-hcl2 gives for our block model (after ``parse_hcl``)."""
    out: dict[str, list[Any]] = {}
    for block in blocks:
        body: Any = _expected_body(block)
        for label in reversed(block.labels):
            body = {label: body}
        out.setdefault(block.type, []).append(body)
    return out


def _expected_body(block: Block) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for item in block.body:
        if isinstance(item, Block):
            body.setdefault(item.type, []).append(_expected_body(item))
        else:
            name, value = item
            body[name] = _expected_value(value)
    return body


def _expected_value(value: Any) -> Any:
    if isinstance(value, Ref):
        return "${" + value.expr + "}"
    if isinstance(value, dict):
        return {k: _expected_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_expected_value(v) for v in value]
    return value


def strategic_merge(base: Any, patch: Any) -> Any:
    """Enough of Kubernetes' strategic merge for pod specs: lists merge by
    name, ``null`` deletes a key, ``$patch: replace`` replaces a map (the
    real merge is kustomize's: ``tests/deploy/test_component_builds.py``)."""
    if isinstance(patch, dict) and patch.get("$patch") == "replace":
        return _without_directives(patch)
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in base:
                merged[key] = strategic_merge(base[key], value)
            else:
                merged[key] = _without_directives(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list):
        by_name = {item.get("name"): item for item in base if isinstance(item, dict)}
        merged_list = list(base)
        for item in patch:
            name = item.get("name") if isinstance(item, dict) else None
            if name is not None and name in by_name:
                merged_list[merged_list.index(by_name[name])] = strategic_merge(by_name[name], item)
            else:
                merged_list.append(_without_directives(item))
        return merged_list
    return patch


def _without_directives(value: Any) -> Any:
    """A patch value added as it is: without ``$patch`` keys and nulls."""
    if isinstance(value, dict):
        return {
            k: _without_directives(v) for k, v in value.items() if k != "$patch" and v is not None
        }
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return value


def minimal_workload(kind: str, name: str, namespace: str, containers: list[str]) -> dict:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": c, "image": "example/app:1"} for c in containers]},
        },
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def load_docs(files: dict[str, str]) -> dict[str, Any]:
    """File name (last path segment) -> parsed YAML."""
    return {path.rsplit("/", 1)[-1]: yaml.safe_load(text) for path, text in files.items()}
