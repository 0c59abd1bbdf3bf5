"""The binding spec: everything needed to render one binding, validated.

JSON form (``BindingSpec.from_dict`` reads it; optional fields marked)::

    {
      "cluster": {
        "name": "janus-dev",                  # EKS cluster name
        "account_id": "287796791794",
        "region": "us-west-2",
        "oidc_issuer": "oidc.eks.us-west-2.amazonaws.com/id/C0EB...",  # IRSA only
        "identity": "irsa",                   # or "pod_identity"
        "layout": {                           # optional, these are the defaults
          "deploy": "clusters/{cluster}/{namespace}/{service}/secrets",
          "infra": "iam/{account}/{cluster}"
        }
      },
      "request": {"id": 42, "requester": "alice"},        # optional
      "service": "data-access-service",
      "namespace": "deploy",
      "workload": {"kind": "Deployment",                  # or StatefulSet; optional
                   "name": "data-access-service",
                   "containers": ["app"],
                   "restart_on_change": false},       # optional: Stakater Reloader
      "service_account": "data-access-service-secrets",   # optional: <service>-secrets
      "name_prefix": "",                  # optional: namePrefix the kustomizations add
      "name_suffix": "",                  # optional: nameSuffix, all layers combined
      "role_name": "data-access-service-secrets",         # optional: see names.py
      "mount_path": "/mnt/secrets-store",                 # optional
      "secrets": [
        {"arn": "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r",
         "alias": "dcp-db-password",
         "object_type": "secretsmanager",     # optional; the only type supported
         "any_suffix": false,                 # optional: policy on <name>-??????
         "jmes": [{"path": "username", "alias": "db-user"}],  # optional
         "kms_key_arn": null,                 # optional customer-managed key
         "file_permission": "0440",           # optional, four octal digits
         "sync": {"secret_name": "dcp-db-password",         # optional
                  "type": "Opaque",                          # optional
                  "keys": [{"object": "dcp-db-password",     # a mounted file name
                            "key": "rds_password",
                            "env": "DB_PASSWORD"}]}}         # env optional
      ]
    }

``name_prefix``/``name_suffix``: what the kustomization layers that include
the Component add to names (an overlay's prefix goes before the service's:
``overlay-service-``). The files keep the plain names (kustomize renames); the
trust policy, the Pod Identity association and the binding's records use the
names the build gives.

``arn`` may also be a plain secret name (looked up in the cluster's region and
account). Layout placeholders: {cluster} {namespace} {service} {account}
{region}. Unknown fields are problems, so typos do not pass silently.

Problems carry paths like ``secrets[0].jmes[2].path`` (see ``SpecProblem``);
``BindingSpec.warnings`` holds what is allowed but needs attention (a secret
in another account).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from secrets_app.rendering import checks, name_rules
from secrets_app.rendering.checks import IDENTITIES, OBJECT_TYPES, WORKLOAD_KINDS
from secrets_app.rendering.layout import DEFAULT_DEPLOY, DEFAULT_INFRA
from secrets_app.rendering.problems import Collector, SpecInvalid, SpecProblem, join
from secrets_app.rendering.spec_parts import (
    ClusterSpec,
    JmesEntry,
    Layout,
    RequestInfo,
    SecretSpec,
    SyncKey,
    SyncSpec,
    Workload,
)

__all__ = [
    "IDENTITIES",
    "OBJECT_TYPES",
    "WORKLOAD_KINDS",
    "BindingSpec",
    "ClusterSpec",
    "JmesEntry",
    "Layout",
    "RequestInfo",
    "SecretSpec",
    "SpecInvalid",
    "SpecProblem",
    "SyncKey",
    "SyncSpec",
    "Workload",
]


@dataclass(frozen=True)
class BindingSpec:
    cluster: ClusterSpec
    service: str
    namespace: str
    workload: Workload
    secrets: tuple[SecretSpec, ...]
    request: RequestInfo = field(default_factory=RequestInfo)
    service_account: str | None = None
    role_name: str | None = None
    mount_path: str = name_rules.DEFAULT_MOUNT_PATH
    name_prefix: str = ""
    name_suffix: str = ""
    warnings: tuple[SpecProblem, ...] = field(default=(), compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> BindingSpec:
        """Read and validate the JSON form; raise SpecInvalid with every problem."""
        col = Collector()
        spec = _read_binding(_Reader(col), data)
        if spec is not None:
            _check(spec, col)
        if col.problems or spec is None:
            raise SpecInvalid(col.problems or [SpecProblem("", "The spec is empty.")])
        return replace(spec, warnings=tuple(col.warnings))


def _check(spec: BindingSpec, col: Collector) -> None:
    """Add every problem (and warning) of the read spec to ``col``."""
    checks.check_cluster(spec.cluster, col)
    checks.check_request(spec.request, col)
    checks.check_names(
        col,
        service=spec.service,
        namespace=spec.namespace,
        service_account=spec.service_account,
        role_name=spec.role_name,
        mount_path=spec.mount_path,
    )
    checks.check_built_names(
        col,
        prefix=spec.name_prefix,
        suffix=spec.name_suffix,
        names={
            "service_account": spec.service_account
            or name_rules.default_service_account(spec.service),
            "workload.name": spec.workload.name,
        },
    )
    checks.check_workload(spec.workload, col)
    checks.check_secrets(spec.cluster, spec.secrets, col)
    if spec.workload.restart_on_change and not any(s.sync for s in spec.secrets):
        col.check(
            "workload.restart_on_change",
            "Restarting on change needs a synced Secret: files under the mount path "
            "follow a rotation without a restart (with the driver's rotation on); only env "
            "vars and synced Secrets need one.",
        )


class _Reader:
    """Type-checked access to the JSON, recording a problem instead of raising."""

    def __init__(self, col: Collector) -> None:
        self.col = col

    def obj(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.col.add(path, "Expected an object.")
            return None
        for key in value:
            if key not in allowed:
                self.col.add(join(path, str(key)), "Unknown field.")
        return value

    def field(
        self,
        d: dict[str, Any],
        key: str,
        path: str,
        kind: type,
        what: str,
        empty: Any,
        *,
        required: bool,
    ) -> Any:
        """``d[key]`` when it is a ``kind``; else ``empty``, with a problem
        unless the field is absent (or null) and not ``required``."""
        value = d.get(key)
        if value is None:
            if required:
                self.col.add(join(path, key), "This field is required.")
            return empty
        if not isinstance(value, kind):
            self.col.add(join(path, key), f"Expected {what}.")
            return empty
        return value

    def text(self, d: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        return self.field(d, key, path, str, "a string", "", required=required)

    def text_or(self, d: dict[str, Any], key: str, path: str, default: str) -> str:
        """The default only when the field is absent or null; "" is checked as given."""
        return default if d.get(key) is None else self.text(d, key, path)

    def optional_text(self, d: dict[str, Any], key: str, path: str) -> str | None:
        return self.text(d, key, path, required=False) if d.get(key) is not None else None

    def flag(self, d: dict[str, Any], key: str, path: str) -> bool:
        return self.field(d, key, path, bool, "true or false", False, required=False)

    def items(self, d: dict[str, Any], key: str, path: str, *, required: bool) -> list[Any]:
        return self.field(d, key, path, list, "a list", [], required=required)


def _read_binding(r: _Reader, data: Any) -> BindingSpec | None:
    top = r.obj(
        data,
        "",
        (
            "cluster",
            "request",
            "service",
            "namespace",
            "workload",
            "service_account",
            "name_prefix",
            "name_suffix",
            "role_name",
            "mount_path",
            "secrets",
        ),
    )
    if top is None:
        return None
    secrets = r.items(top, "secrets", "", required=True)
    if not secrets and isinstance(top.get("secrets"), list):
        r.col.add("secrets", "List at least one secret.")
    return BindingSpec(
        cluster=_read_cluster(r, top.get("cluster"), "cluster"),
        request=_read_request(r, top.get("request"), "request"),
        service=r.text(top, "service", ""),
        namespace=r.text(top, "namespace", ""),
        workload=_read_workload(r, top.get("workload"), "workload"),
        service_account=r.optional_text(top, "service_account", ""),
        role_name=r.optional_text(top, "role_name", ""),
        mount_path=r.text_or(top, "mount_path", "", name_rules.DEFAULT_MOUNT_PATH),
        name_prefix=r.text_or(top, "name_prefix", "", ""),
        name_suffix=r.text_or(top, "name_suffix", "", ""),
        secrets=tuple(_read_secret(r, s, join("secrets", i)) for i, s in enumerate(secrets)),
    )


def _read_cluster(r: _Reader, value: Any, path: str) -> ClusterSpec:
    d = r.obj(
        value,
        path,
        ("name", "account_id", "region", "oidc_issuer", "identity", "layout"),
    )
    if d is None:
        return ClusterSpec(name="", account_id="", region="", oidc_issuer=None)
    issuer = r.optional_text(d, "oidc_issuer", path)
    if issuer and issuer.startswith("https://"):
        issuer = issuer.removeprefix("https://")
    layout = Layout()
    if d.get("layout") is not None:
        ld = r.obj(d["layout"], join(path, "layout"), ("deploy", "infra"))
        if ld is not None:
            lp = join(path, "layout")
            layout = Layout(
                deploy=r.text_or(ld, "deploy", lp, DEFAULT_DEPLOY),
                infra=r.text_or(ld, "infra", lp, DEFAULT_INFRA),
            )
    return ClusterSpec(
        name=r.text(d, "name", path),
        account_id=r.text(d, "account_id", path),
        region=r.text(d, "region", path),
        oidc_issuer=issuer,
        identity=r.text_or(d, "identity", path, "irsa"),
        layout=layout,
    )


def _read_request(r: _Reader, value: Any, path: str) -> RequestInfo:
    if value is None:
        return RequestInfo()
    d = r.obj(value, path, ("id", "requester"))
    if d is None:
        return RequestInfo()
    request_id = d.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, int | str)
    ):
        r.col.add(join(path, "id"), "Expected a number or a string.")
        request_id = None
    return RequestInfo(id=request_id, requester=r.optional_text(d, "requester", path))


def _read_workload(r: _Reader, value: Any, path: str) -> Workload:
    d = r.obj(value, path, ("kind", "name", "containers", "restart_on_change"))
    if d is None:
        return Workload(name="", containers=())
    containers = r.items(d, "containers", path, required=True)
    names: list[str] = []
    for i, c in enumerate(containers):
        if not isinstance(c, str):
            # A placeholder keeps later indices equal to the JSON's.
            r.col.add(join(join(path, "containers"), i), "Expected a string.")
            c = ""
        names.append(c)
    return Workload(
        kind=r.text_or(d, "kind", path, "Deployment"),
        name=r.text(d, "name", path),
        containers=tuple(names),
        restart_on_change=r.flag(d, "restart_on_change", path),
    )


def _read_secret(r: _Reader, value: Any, path: str) -> SecretSpec:
    d = r.obj(
        value,
        path,
        (
            "arn",
            "alias",
            "object_type",
            "any_suffix",
            "jmes",
            "kms_key_arn",
            "file_permission",
            "sync",
        ),
    )
    if d is None:
        return SecretSpec(arn="", alias="")
    jmes: list[JmesEntry] = []
    for i, item in enumerate(r.items(d, "jmes", path, required=False)):
        jp = join(join(path, "jmes"), i)
        jd = r.obj(item, jp, ("path", "alias"))
        if jd is None:
            jmes.append(JmesEntry(path="", alias=""))
        else:
            jmes.append(JmesEntry(path=r.text(jd, "path", jp), alias=r.text(jd, "alias", jp)))
    sync = None
    if d.get("sync") is not None:
        sync = _read_sync(r, d["sync"], join(path, "sync"))
    return SecretSpec(
        arn=r.text(d, "arn", path).strip(),
        alias=r.text(d, "alias", path),
        object_type=r.text_or(d, "object_type", path, "secretsmanager"),
        any_suffix=r.flag(d, "any_suffix", path),
        jmes=tuple(jmes),
        kms_key_arn=r.optional_text(d, "kms_key_arn", path),
        file_permission=r.optional_text(d, "file_permission", path),
        sync=sync,
    )


def _read_sync(r: _Reader, value: Any, path: str) -> SyncSpec | None:
    d = r.obj(value, path, ("secret_name", "type", "keys"))
    if d is None:
        return None
    keys: list[SyncKey] = []
    raw_keys = r.items(d, "keys", path, required=True)
    if not raw_keys and isinstance(d.get("keys"), list):
        r.col.add(join(path, "keys"), "List at least one key to sync.")
    for i, item in enumerate(raw_keys):
        kp = join(join(path, "keys"), i)
        kd = r.obj(item, kp, ("object", "key", "env"))
        if kd is None:
            keys.append(SyncKey(object="", key=""))
        else:
            keys.append(
                SyncKey(
                    object=r.text(kd, "object", kp),
                    key=r.text(kd, "key", kp),
                    env=r.optional_text(kd, "env", kp),
                )
            )
    return SyncSpec(
        secret_name=r.text(d, "secret_name", path),
        type=r.text_or(d, "type", path, "Opaque"),
        keys=tuple(keys),
    )
