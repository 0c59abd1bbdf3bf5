"""Plain value types shared by the collector, the join and the diagnosis catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from secrets_app.health.status import HealthStatus


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    title: str
    cause: str
    fix: str


@dataclass(frozen=True, slots=True)
class BindingTarget:
    """What the portal expects to find in the cluster for one binding."""

    id: int | str
    namespace: str
    service_account: str
    secret_provider_class: str
    workload_kind: str
    workload_name: str
    role_arn: str
    synced_secret_names: tuple[str, ...] = ()
    secret_ids: tuple[str, ...] = ()


class FailingPod(NamedTuple):
    pod: str
    message: str


@dataclass(slots=True)
class BindingHealth:
    binding_id: int | str
    status: HealthStatus
    pods_expected: int = 0
    pods_mounted: int = 0
    failing_pods: list[FailingPod] = field(default_factory=list)
    synced_secrets_present: tuple[str, ...] = ()
    synced_secrets_missing: tuple[str, ...] = ()
    service_account_found: bool = False
    # None when it does not apply: Pod Identity class, or no ServiceAccount to read.
    annotation_ok: bool | None = None
    # object id (as the provider reports it) -> distinct versions seen across pods;
    # more than one version means pods disagree (e.g. a failed rotation).
    object_versions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    last_error: str = ""
    diagnosis: Diagnosis | None = None
    # Codes of the static findings (see diagnosis.STATIC), for filtering/dashboards.
    findings: tuple[str, ...] = ()
    # Expected pods neither mounted nor failing yet (ContainerCreating, no event).
    pods_waiting: int = 0
