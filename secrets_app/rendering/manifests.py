"""Kubernetes manifests for one binding, built as data and dumped as YAML.

Files (deploy repository, one directory per binding):

* ``serviceaccount.yaml``: the ServiceAccount, annotated with the role ARN for
  IRSA (Pod Identity uses an association instead, so no annotation);
* ``secretproviderclass.yaml``: provider ``aws``; ``parameters.objects`` is
  itself a YAML document inside a string, dumped the same way;
* ``deployment-patch.yaml`` (or ``statefulset-patch.yaml``): a strategic-merge
  patch adding the ServiceAccount, the CSI volume, the read-only mounts and
  the env vars to the workload;
* ``kustomizeconfig.yaml``: tells kustomize that a workload's CSI volume
  attribute ``secretProviderClass`` names a SecretProviderClass;
* ``kustomization.yaml``: a Kustomize *Component* listing the two resources,
  the patch and the configuration. A Component rather than a plain
  Kustomization because the workload lives in the service's own
  kustomization: a patch only reaches resources of the kustomization that
  includes it, and a component is how a directory contributes both new
  resources and patches to its parent (``components: [secrets]``).

The Component's shape comes from real ``kubectl kustomize`` builds
(``tests/deploy/test_component_builds.py`` builds every layout):

* A component runs *before* its parent's own transformers (namespace,
  prefixes, labels). So the patch targets the workload by kind and name
  only: a target naming the namespace matches nothing when the namespace is
  set by the parent, and a targeted patch that matches nothing is silently
  skipped. For the same reason the patch itself names no namespace.
* A targeted patch never fails, so a ``replacements`` entry reads the
  workload's name into an annotation of the ServiceAccount: a replacement
  whose source is missing fails the build ("nothing selected by
  Deployment...") instead of shipping a workload without its secrets.
* ``namePrefix``/``nameSuffix`` of the parent rename the ServiceAccount and
  the class; kustomize knows the ``serviceAccountName`` reference, and
  ``kustomizeconfig.yaml`` teaches it the CSI attribute, so both follow.
* Strategic merge merges env vars by name: an env var the workload already
  sets (a literal ``value`` or another ``valueFrom``) would keep its old
  source beside the new one, which the API server refuses. ``value: null``
  removes a literal and ``$patch: replace`` replaces the whole ``valueFrom``.

Strings are quoted wherever any YAML reader could retype them (``_RETYPED``):
PyYAML's own resolver is YAML 1.1 but leaves out ``y``/``n`` and reads
``1e3`` as a string, which other YAML 1.1 readers (Go's yaml.v2) and YAML 1.2
readers do not.
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml

from secrets_app.rendering import yaml_text
from secrets_app.rendering.jmes import normalize_path
from secrets_app.rendering.names import CSI_DRIVER, BindingNames
from secrets_app.rendering.spec import BindingSpec

SPC_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "secrets-access-portal"
REQUEST_ANNOTATION = "secrets-access-portal/request-id"
REQUESTER_ANNOTATION = "secrets-access-portal/requester"

WORKLOAD_ANNOTATION = "secrets-access-portal/workload"
RELOADER_ANNOTATION = "secret.reloader.stakater.com/reload"

SERVICE_ACCOUNT_FILE = "serviceaccount.yaml"
SPC_FILE = "secretproviderclass.yaml"
KUSTOMIZE_CONFIG_FILE = "kustomizeconfig.yaml"
KUSTOMIZATION_FILE = "kustomization.yaml"
SPC_GROUP = SPC_API_VERSION.split("/", 1)[0]
WORKLOAD_KINDS = ("Deployment", "StatefulSet")

# libyaml's emitter when present (several times faster); both are "safe"
# dumpers: plain data only, no Python tags.
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_STR = "tag:yaml.org,2002:str"

# Plain scalars that some YAML reader takes for something other than a
# string: YAML 1.1's booleans (y/n included: http://yaml.org/type/bool.html),
# nulls, its ints (0777 octal, 0b1, 0x1F, 1_000, 12:30 base 60) and floats
# (1.5, 1e3 as YAML 1.2 reads it, .inf, .nan, 1:30.5), and the ``<<`` merge
# and ``=`` value keys. A string matching it is written quoted.
_RETYPED = re.compile(
    r"""\A(?:
        y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
        |on|On|ON|off|Off|OFF|~|null|Null|NULL|<<|=
        |[-+]?(?:0b[0-1_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)
        |[-+]?(?=[0-9._]*[0-9])[0-9_]*\.?[0-9._]*(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    )\Z""",
    re.VERBOSE,
)


class _Block(str):
    """A multi-line string shown as a literal block (``|``) when YAML allows it."""


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """A safe dumper whose implicit-tag lookups are memoised.

    The emitter asks the resolver, for every scalar, whether it would read
    back as a plain string; the answer depends only on the text, and the same
    keys and names come back in every manifest, so a dict lookup replaces
    the regular-expression scan (the largest cost of a dump).
    """

    _resolved: dict[tuple[str, bool, bool], str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, *implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if tag == _STR and implicit[0] and _RETYPED.match(value):
                # Not a string to some reader: a tag other than str makes
                # the emitter quote the value.
                tag = "tag:yaml.org,2002:bool"
            if len(self._resolved) < 50_000:
                self._resolved[key] = tag
        return tag


def _node(value: Any) -> yaml.Node:
    """The YAML node for plain data (what SafeRepresenter builds, without its
    per-node bookkeeping: no aliases, since the same env list goes into every
    container and anchors would only make the review harder)."""
    if isinstance(value, str):
        # The emitter falls back to a quoted style whenever a literal block
        # could not hold the exact text (trailing spaces, special characters).
        style = "|" if isinstance(value, _Block) else None
        return yaml.ScalarNode(_STR, str(value), style=style)
    if isinstance(value, dict):
        return yaml.MappingNode(
            "tag:yaml.org,2002:map", [(_node(k), _node(v)) for k, v in value.items()]
        )
    if isinstance(value, list | tuple):
        return yaml.SequenceNode("tag:yaml.org,2002:seq", [_node(v) for v in value])
    if value is None:
        return yaml.ScalarNode("tag:yaml.org,2002:null", "null")
    if isinstance(value, bool):
        return yaml.ScalarNode("tag:yaml.org,2002:bool", "true" if value else "false")
    if isinstance(value, int):
        return yaml.ScalarNode("tag:yaml.org,2002:int", str(value))
    raise TypeError(f"cannot write {type(value).__name__} to YAML")


def _reads_as_str(text: str) -> bool:
    """Whether the dumper's resolver reads the plain scalar ``text`` back as
    a string (the fast writer quotes it otherwise)."""
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR


_RESOLVER = _Dumper(io.StringIO())
_FAST = yaml_text.Writer(_reads_as_str, literal=_Block)


def dump_yaml(doc: Any) -> str:
    """YAML for plain data (str, bool, int, None, list, dict), keys in insertion order."""
    # The same bytes libyaml writes, several times faster; libyaml itself
    # for whatever the fast writer does not reproduce exactly.
    text = _FAST.dump(doc)
    return text if text is not None else _libyaml_dump(doc)


def _libyaml_dump(doc: Any) -> str:
    stream = io.StringIO()
    dumper = _Dumper(stream, allow_unicode=True)
    try:
        dumper.open()
        dumper.serialize(_node(doc))
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


def patch_file_name(names: BindingNames) -> str:
    return f"{names.workload_kind.lower()}-patch.yaml"


def _metadata(spec: BindingSpec, name: str, namespace: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {MANAGED_BY_LABEL: MANAGED_BY},
    }
    annotations = {}
    if spec.request.id is not None:
        annotations[REQUEST_ANNOTATION] = str(spec.request.id)
    if spec.request.requester is not None:
        annotations[REQUESTER_ANNOTATION] = spec.request.requester
    if annotations:
        meta["annotations"] = annotations
    return meta


def service_account(spec: BindingSpec, names: BindingNames) -> dict[str, Any]:
    meta = _metadata(spec, names.component_service_account, names.namespace)
    if spec.cluster.identity == "irsa":
        meta.setdefault("annotations", {})[ROLE_ARN_ANNOTATION] = names.role_arn
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def provider_objects(spec: BindingSpec) -> list[dict[str, Any]]:
    """The ``objects`` parameter as data (before it becomes a string)."""
    objects = []
    for s in spec.secrets:
        obj: dict[str, Any] = {
            "objectName": s.arn,
            "objectType": s.object_type,
            "objectAlias": s.alias,
        }
        if s.file_permission is not None:
            obj["filePermission"] = s.file_permission
        if s.jmes:
            obj["jmesPath"] = [
                {"path": normalize_path(e.path), "objectAlias": e.alias} for e in s.jmes
            ]
        objects.append(obj)
    return objects


def secret_provider_class(spec: BindingSpec, names: BindingNames) -> dict[str, Any]:
    parameters: dict[str, str] = {
        "objects": _Block(dump_yaml(provider_objects(spec))),
        "region": spec.cluster.region,
    }
    if spec.cluster.identity == "pod_identity":
        parameters["usePodIdentity"] = "true"
    body: dict[str, Any] = {"provider": "aws", "parameters": parameters}
    secret_objects = [
        {
            "secretName": s.sync.secret_name,
            "type": s.sync.type,
            "data": [{"objectName": k.object, "key": k.key} for k in s.sync.keys],
        }
        for s in spec.secrets
        if s.sync is not None
    ]
    if secret_objects:
        body["secretObjects"] = secret_objects
    return {
        "apiVersion": SPC_API_VERSION,
        "kind": "SecretProviderClass",
        "metadata": _metadata(spec, names.component_class, names.namespace),
        "spec": body,
    }


def workload_patch(names: BindingNames) -> dict[str, Any]:
    """Strategic-merge patch: lists merge by ``name``, so nothing is replaced
    but the binding's own env vars (see the module's notes).

    No namespace: kustomize applies a targeted patch to whatever matched
    the target, and the workload may get its namespace only later, from
    the service's kustomization."""
    env = [
        {
            "name": k.env,
            "value": None,
            "valueFrom": {
                "$patch": "replace",
                "secretKeyRef": {"name": k.secret_name, "key": k.key},
            },
        }
        for k in names.env_vars
    ]
    containers = []
    for container in names.containers:
        entry: dict[str, Any] = {"name": container}
        if env:
            entry["env"] = env
        entry["volumeMounts"] = [
            {"name": names.volume_name, "mountPath": names.mount_path, "readOnly": True}
        ]
        containers.append(entry)
    volume = {
        "name": names.volume_name,
        "csi": {
            "driver": CSI_DRIVER,
            "readOnly": True,
            # The class's name; the guide's comment says the ServiceAccount's.
            "volumeAttributes": {"secretProviderClass": names.component_class},
        },
    }
    metadata: dict[str, Any] = {"name": names.component_workload}
    if names.reload_secrets:
        # On the workload itself (Reloader reads its metadata, not the pod
        # template's); a value already there is replaced (see the README).
        metadata["annotations"] = {RELOADER_ANNOTATION: names.reload_secrets}
    return {
        "apiVersion": "apps/v1",
        "kind": names.workload_kind,
        "metadata": metadata,
        "spec": {
            "template": {
                "spec": {
                    "serviceAccountName": names.component_service_account,
                    "containers": containers,
                    "volumes": [volume],
                }
            }
        },
    }


def kustomize_config() -> dict[str, Any]:
    """A ``nameReference`` for the class: when the service's kustomization
    renames it (``namePrefix``, ``nameSuffix``), the workloads' CSI volumes
    follow. The same for every binding, so two components in one build add
    the same entry twice, which kustomize merges."""
    path = "spec/template/spec/volumes/csi/volumeAttributes/secretProviderClass"
    return {
        "nameReference": [
            {
                "kind": "SecretProviderClass",
                "group": SPC_GROUP,
                "fieldSpecs": [
                    {"kind": kind, "group": "apps", "path": path} for kind in WORKLOAD_KINDS
                ],
            }
        ]
    }


def _name_pattern(name: str) -> str:
    """A patch target's name is a regular expression (anchored by kustomize);
    Kubernetes names hold no other metacharacter than ``.``."""
    return name.replace(".", "\\.")


def kustomization(names: BindingNames) -> dict[str, Any]:
    workload = {"group": "apps", "kind": names.workload_kind, "name": names.component_workload}
    return {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "resources": [SERVICE_ACCOUNT_FILE, SPC_FILE],
        "patches": [
            {
                "path": patch_file_name(names),
                "target": {**workload, "name": _name_pattern(names.component_workload)},
            }
        ],
        "configurations": [KUSTOMIZE_CONFIG_FILE],
        # Fails the build when the workload is not in it (see the module's notes).
        "replacements": [
            {
                "source": {**workload, "fieldPath": "metadata.name"},
                "targets": [
                    {
                        "select": {
                            "kind": "ServiceAccount",
                            "name": names.component_service_account,
                        },
                        "fieldPaths": [f"metadata.annotations.{WORKLOAD_ANNOTATION}"],
                        "options": {"create": True},
                    }
                ],
            }
        ],
    }


def render_manifests(spec: BindingSpec, names: BindingNames) -> dict[str, str]:
    """File name -> YAML text, in a stable order."""
    return {
        SERVICE_ACCOUNT_FILE: dump_yaml(service_account(spec, names)),
        SPC_FILE: dump_yaml(secret_provider_class(spec, names)),
        patch_file_name(names): dump_yaml(workload_patch(names)),
        KUSTOMIZE_CONFIG_FILE: dump_yaml(kustomize_config()),
        KUSTOMIZATION_FILE: dump_yaml(kustomization(names)),
    }
