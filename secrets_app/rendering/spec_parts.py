"""The parts of a binding spec (``spec.BindingSpec`` holds them): plain
frozen dataclasses, read by ``spec`` and checked by ``checks``."""

from __future__ import annotations

from dataclasses import dataclass, field

from secrets_app.rendering import name_rules
from secrets_app.rendering.layout import DEFAULT_DEPLOY, DEFAULT_INFRA


@dataclass(frozen=True)
class Layout:
    deploy: str = DEFAULT_DEPLOY
    infra: str = DEFAULT_INFRA


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    account_id: str
    region: str
    oidc_issuer: str | None
    identity: str = "irsa"
    layout: Layout = field(default_factory=Layout)

    @property
    def partition(self) -> str:
        return name_rules.partition_of(self.region)


@dataclass(frozen=True)
class RequestInfo:
    id: int | str | None = None
    requester: str | None = None


@dataclass(frozen=True)
class Workload:
    name: str
    containers: tuple[str, ...]
    kind: str = "Deployment"
    # Stakater Reloader restarts the pods when a synced Secret changes
    # (env vars and synced Secrets change only on a restart).
    restart_on_change: bool = False


@dataclass(frozen=True)
class JmesEntry:
    path: str  # as the requester gave it; jmes.normalize_path makes the provider's form
    alias: str


@dataclass(frozen=True)
class SyncKey:
    object: str
    key: str
    env: str | None = None


@dataclass(frozen=True)
class SyncSpec:
    secret_name: str
    keys: tuple[SyncKey, ...]
    type: str = "Opaque"


@dataclass(frozen=True)
class SecretSpec:
    arn: str
    alias: str
    object_type: str = "secretsmanager"
    any_suffix: bool = False
    jmes: tuple[JmesEntry, ...] = ()
    kms_key_arn: str | None = None
    file_permission: str | None = None
    sync: SyncSpec | None = None

    @property
    def ref(self) -> name_rules.SecretRef:
        return name_rules.parse_secret_ref(self.arn)
