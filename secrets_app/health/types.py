"""Plain value types shared by the collector, the join and the diagnosis catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from secrets_app.health.collector import ClassInfo, PlainPods, PodInfo
from secrets_app.health.status import HealthStatus


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    title: str
    cause: str
    fix: str


@dataclass(frozen=True, slots=True)
class ExpectedSecret:
    """A secret of the binding: its ARN, its name and the file it is mounted as."""

    arn: str
    name: str
    alias: str


@dataclass(frozen=True, slots=True)
class BindingTarget:
    """What the portal expects to find in the cluster for one binding: what
    the join judges its health by, and what drift compares the cluster with."""

    id: int | str
    namespace: str
    service_account: str
    secret_provider_class: str
    workload_kind: str
    workload_name: str
    role_arn: str
    synced_secret_names: tuple[str, ...] = ()
    secrets: tuple[ExpectedSecret, ...] = ()
    # The cluster's identity mode: under Pod Identity the association carries
    # the role (no annotation expected) and the class says usePodIdentity.
    pod_identity: bool = False

    @property
    def secret_ids(self) -> tuple[str, ...]:
        return tuple(s.arn for s in self.secrets)


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
    # The name the binding's ServiceAccount was built under when a kustomize
    # namePrefix/nameSuffix the request did not name renamed it ("" otherwise).
    renamed_service_account: str = ""
    # (pod, ((object id, version), ...)) of each mounted pod: the rotation
    # check compares them with each secret's current version.
    pod_objects: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
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
    # What the join found of the binding's objects, beyond the verdict: drift
    # is built from these (bindings/drift.py) rather than by a second look.
    # The ServiceAccount's role annotation ("" when absent or no ServiceAccount).
    role_annotation: str = ""
    # The binding's SecretProviderClass as listed; None when it is missing.
    class_info: ClassInfo | None = None
    # Active pods of the binding's workload that have a secrets-store volume,
    # and those of them whose volumes all name another class.
    workload_pods: tuple[PodInfo, ...] = ()
    stray_pods: tuple[PodInfo, ...] = ()
    # Active pods of the workload without any secrets-store volume.
    plain_pods: PlainPods | None = None
