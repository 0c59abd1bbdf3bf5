"""What a requester filed, normalised: text stripped, defaults taken, each
secret's reference parsed. Nothing here judges the values; it only records,
for every default, which field it came from, so that a problem in that field
is not reported again on the field the requester left blank."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secrets_app.models import Cluster, WorkloadKind
from secrets_app.rendering import name_rules


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass
class SecretDraft:
    secret: str
    alias: str
    any_suffix: bool
    cross_account: bool
    kms_key_arn: str
    jmes: list[dict[str, str]]
    sync_secret_name: str
    sync_secret_type: str
    sync_keys: list[dict[str, str]]
    ref: name_rules.SecretRef | None

    def grant(self) -> dict[str, Any]:
        """The SecretGrant fields (``SecretGrant.FILED_FIELDS``)."""
        synced = bool(self.sync_secret_name)
        return {
            "secret": self.secret,
            "alias": self.alias,
            # A name or a partial ARN names no version suffix: only a grant
            # on <name>-?????? can match the secret's ARN.
            "any_suffix": self.any_suffix or not (self.ref and self.ref.is_full_arn),
            "kms_key_arn": self.kms_key_arn,
            "jmes": [dict(e) for e in self.jmes],
            "sync_secret_name": self.sync_secret_name,
            "sync_secret_type": self.sync_secret_type if synced else "Opaque",
            "sync_keys": [dict(k) for k in self.sync_keys] if synced else [],
        }

    def take_resolved(self, *, secret: str | None = None, kms_key_arn: str | None = None) -> None:
        """Values AWS resolved: a full ARN; the secret's customer-managed key,
        or "" when it has none (a key typed for it is dropped)."""
        if secret:
            self.secret = secret
            self.ref = name_rules.parse_secret_ref(secret)
        if kms_key_arn is not None:
            self.kms_key_arn = kms_key_arn


@dataclass
class Draft:
    cluster: Cluster | None
    cluster_given: str
    fields: dict[str, Any]
    secrets: list[SecretDraft]
    #: request path of a defaulted field -> the path its value came from.
    derived: dict[str, str] = field(default_factory=dict)

    def filed(self) -> dict[str, Any]:
        """The AccessRequest fields (``AccessRequest.FILED_FIELDS``)."""
        return {"cluster": self.cluster, **self.fields}


def read_draft(data: Mapping[str, Any]) -> Draft:
    service = _text(data.get("service"))
    derived: dict[str, str] = {}
    workload_name = _text(data.get("workload_name"))
    if not workload_name:
        workload_name = service
        derived["workload_name"] = "service"
    service_account = _text(data.get("service_account"))
    if not service_account:
        service_account = name_rules.default_service_account(service) if service else ""
        derived["service_account"] = "service"
    mount_path = data.get("mount_path")
    expires_on = data.get("expires_on")
    fields = {
        "service": service,
        "namespace": _text(data.get("namespace")),
        "workload_kind": _text(data.get("workload_kind")) or WorkloadKind.DEPLOYMENT,
        "workload_name": workload_name,
        "containers": [c for c in (_text(c) for c in data.get("containers") or []) if c],
        "service_account": service_account,
        "restart_on_change": data.get("restart_on_change") is True,
        "name_prefix": _text(data.get("name_prefix")),
        "name_suffix": _text(data.get("name_suffix")),
        "role_name": _text(data.get("role_name")),
        # Absent: the default; given blank: checked as given (and refused).
        "mount_path": name_rules.DEFAULT_MOUNT_PATH if mount_path is None else _text(mount_path),
        "justification": _text(data.get("justification")),
        "expires_on": expires_on if isinstance(expires_on, datetime.date) else None,
    }
    cluster_given = data.get("cluster")
    secrets = [
        _read_secret(item, f"secrets[{i}]", derived)
        for i, item in enumerate(data.get("secrets") or [])
    ]
    return Draft(
        cluster=cluster_given if isinstance(cluster_given, Cluster) else None,
        cluster_given=_text(
            cluster_given.pk if isinstance(cluster_given, Cluster) else cluster_given
        ),
        fields=fields,
        secrets=secrets,
        derived=derived,
    )


def _read_secret(item: Mapping[str, Any], base: str, derived: dict[str, str]) -> SecretDraft:
    secret = _text(item.get("secret"))
    try:
        ref = name_rules.parse_secret_ref(secret)
    except name_rules.SecretRefError:
        ref = None
    alias = _text(item.get("alias"))
    if not alias:
        alias = ref.name.rsplit("/", 1)[-1] if ref else ""
        derived[f"{base}.alias"] = f"{base}.secret"
    sync_keys = []
    for k, entry in enumerate(item.get("sync_keys") or []):
        key = {"object": _text(entry.get("object")), "key": _text(entry.get("key"))}
        if not key["object"]:
            # A key reads the secret's own file unless it names another.
            key["object"] = alias
            derived[f"{base}.sync_keys[{k}].object"] = f"{base}.alias"
        if _text(entry.get("env")):
            key["env"] = _text(entry.get("env"))
        sync_keys.append(key)
    return SecretDraft(
        secret=secret,
        alias=alias,
        any_suffix=bool(item.get("any_suffix")),
        cross_account=bool(item.get("cross_account")),
        kms_key_arn=_text(item.get("kms_key_arn")),
        jmes=[
            {"path": _text(e.get("path")), "alias": _text(e.get("alias"))}
            for e in item.get("jmes") or []
        ],
        sync_secret_name=_text(item.get("sync_secret_name")),
        sync_secret_type=_text(item.get("sync_secret_type")) or "Opaque",
        sync_keys=sync_keys,
        ref=ref,
    )
