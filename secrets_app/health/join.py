"""Join a cluster snapshot with the portal's bindings: one ``BindingHealth`` each.

A pod belongs to a binding when it mounts the binding's SecretProviderClass in
the binding's namespace (the CSI volume's ``secretProviderClass``). The owner
reference only narrows the set when several bindings share one class, and
finds the workload's pods whose volume names another class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from secrets_app.health.collector import (
    SYNC_FAILURE_REASON,
    ClassInfo,
    ClusterSnapshot,
    EventInfo,
    PodInfo,
)
from secrets_app.health.diagnosis import STATIC, diagnose
from secrets_app.health.types import (
    BindingHealth,
    BindingTarget,
    Diagnosis,
    FailingPod,
    HealthStatus,
)

# Static findings that by themselves mean new pods cannot mount, in the order
# their diagnosis is preferred when no event explains the failure.
_BLOCKING = (
    "sa-renamed",
    "sa-missing",
    "spc-missing",
    "volume-class-mismatch",
    "sa-annotation-missing",
    "sa-annotation-mismatch",
)


def evaluate(
    snapshot: ClusterSnapshot, targets: Iterable[BindingTarget]
) -> dict[int | str, BindingHealth]:
    """Health of every target, keyed by ``BindingTarget.id``."""
    targets = list(targets)
    shared = Counter((t.namespace, t.secret_provider_class) for t in targets)
    return {
        t.id: evaluate_one(
            snapshot, t, shared_class=shared[(t.namespace, t.secret_provider_class)] > 1
        )
        for t in targets
    }


def evaluate_one(
    snapshot: ClusterSnapshot, target: BindingTarget, *, shared_class: bool = False
) -> BindingHealth:
    ns, spc = target.namespace, target.secret_provider_class
    findings: list[str] = []

    sa_key = (ns, target.service_account)
    sa_found = sa_key in snapshot.service_accounts
    annotation = snapshot.service_accounts.get(sa_key, "")
    cls = snapshot.classes.get((ns, spc))
    annotation_ok: bool | None = None
    renamed = "" if sa_found else renamed_account(snapshot, ns, target.service_account)
    if renamed:
        findings.append("sa-renamed")
    elif not sa_found:
        findings.append("sa-missing")
    elif expects_annotation(target, cls):
        annotation_ok = annotation == target.role_arn
        if not annotation:
            findings.append("sa-annotation-missing")
        elif not annotation_ok:
            findings.append("sa-annotation-mismatch")
    if cls is None:
        findings.append("spc-missing")

    pods = [p for p in snapshot.pods_by_class.get((ns, spc), ()) if p.active]
    if shared_class:
        own = [p for p in pods if p.workload == target.workload_name]
        pods = own or pods
    workload = (ns, target.workload_name)
    workload_pods = tuple(p for p in snapshot.pods_by_workload.get(workload, ()) if p.active)
    strays = tuple(p for p in workload_pods if all(c != spc for _, c in p.volumes))
    if strays:
        findings.append("volume-class-mismatch")
        pods += strays

    mounted = waiting = 0
    failing: list[FailingPod] = []
    errors: list[EventInfo] = []
    sync_errors: list[tuple[PodInfo, EventInfo]] = []
    versions: dict[str, set[str]] = {}
    pod_objects: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for pod in pods:
        events = _events_for(snapshot, pod)
        mount = snapshot.mounts.get((ns, pod.name, spc))
        if mount is not None and mount.mounted:
            mounted += 1
            pod_objects.append((pod.name, mount.objects))
            for obj_id, version in mount.objects:
                versions.setdefault(obj_id, set()).add(version)
            sync = [e for e in events if e.reason == SYNC_FAILURE_REASON]
            if sync:
                sync_errors.append((pod, max(sync, key=_when)))
            continue
        volumes = {v for v, c in pod.volumes if c == spc} or {v for v, _ in pod.volumes}
        mount_errors = [
            e
            for e in events
            if e.reason != SYNC_FAILURE_REASON and (not e.volume or e.volume in volumes)
        ]
        if mount_errors:
            latest = max(mount_errors, key=_when)
            failing.append(FailingPod(pod.name, latest.message))
            errors.append(latest)
        else:
            waiting += 1  # scheduled/ContainerCreating, no verdict yet

    present = tuple(n for n in target.synced_secret_names if (ns, n) in snapshot.synced_secrets)
    missing = tuple(n for n in target.synced_secret_names if (ns, n) not in snapshot.synced_secrets)
    # A synced Secret exists only while some pod mounts the volume: its absence
    # is a fault only once a pod is mounted.
    secret_fault = bool(missing) and mounted > 0
    if secret_fault:
        findings.append("synced-secret-missing")
        for pod, event in sync_errors:
            failing.append(FailingPod(pod.name, event.message))
            errors.append(event)

    status = _status(len(pods), mounted, bool(failing), secret_fault, findings)
    last_error = max(errors, key=_when).message if errors else ""
    return BindingHealth(
        binding_id=target.id,
        status=status,
        pods_expected=len(pods),
        pods_mounted=mounted,
        failing_pods=failing,
        synced_secrets_present=present,
        synced_secrets_missing=missing,
        service_account_found=sa_found,
        renamed_service_account=renamed,
        pod_objects=tuple(pod_objects),
        annotation_ok=annotation_ok,
        object_versions={k: tuple(sorted(v)) for k, v in versions.items()},
        last_error=last_error,
        diagnosis=_diagnosis(last_error, findings),
        findings=tuple(findings),
        pods_waiting=waiting,
        role_annotation=annotation,
        class_info=cls,
        workload_pods=workload_pods,
        stray_pods=strays,
        plain_pods=snapshot.plain_pods_by_workload.get(workload),
    )


def expects_annotation(target: BindingTarget, cls: ClassInfo | None) -> bool:
    """Whether the ServiceAccount should carry the binding's role annotation:
    only when the binding has a role and both it and its class use IRSA.
    Under Pod Identity the association carries the role; where the binding
    and its class disagree on the mode, that disagreement is the finding
    (drift's ``spc-identity``), not the annotation."""
    return (
        bool(target.role_arn)
        and not target.pod_identity
        and not (cls is not None and cls.use_pod_identity)
    )


def renamed_account(snapshot: ClusterSnapshot, namespace: str, service_account: str) -> str:
    """The ServiceAccount the build made of ``service_account`` when the
    service's kustomization adds a ``namePrefix``/``nameSuffix`` the request
    did not name ("" when there is none): the shortest name in the namespace
    that contains it (one per namespace's accounts, only for a missing one)."""
    found = [
        name
        for name in snapshot.accounts_by_namespace.get(namespace, ())
        if service_account in name and name != service_account
    ]
    return min(found, key=lambda n: (len(n), n)) if found else ""


def _status(
    expected: int, mounted: int, failing: bool, secret_fault: bool, findings: list[str]
) -> HealthStatus:
    blocking = any(f in _BLOCKING for f in findings)
    if "sa-missing" in findings or "sa-renamed" in findings:
        # No new pod can be created, or none can ever assume the role.
        return HealthStatus.FAILING
    if expected == 0:
        return HealthStatus.FAILING if blocking else HealthStatus.PENDING
    if mounted == 0:
        return HealthStatus.FAILING if failing or blocking else HealthStatus.PENDING
    if failing or secret_fault or blocking:
        return HealthStatus.DEGRADED
    if mounted == expected:
        return HealthStatus.HEALTHY
    return HealthStatus.PENDING  # some mounted, the rest still mounting (a rollout)


def _diagnosis(last_error: str, findings: list[str]) -> Diagnosis | None:
    # What actually happened (the event text) beats what we infer; an unknown
    # text falls back to a static finding, else None so the UI shows the text.
    # Except a renamed ServiceAccount: the AccessDenied it causes reads like
    # a policy problem, and fixing the policy would not help.
    if "sa-renamed" in findings:
        return STATIC["sa-renamed"]
    found = diagnose(last_error) if last_error else None
    if found is not None:
        return found
    for code in (*_BLOCKING, "synced-secret-missing"):
        if code in findings:
            return STATIC[code]
    return None


def _events_for(snapshot: ClusterSnapshot, pod: PodInfo) -> list[EventInfo]:
    # A re-created pod (StatefulSet) keeps its name: skip the old pod's events.
    return [
        e
        for e in snapshot.events.get((pod.namespace, pod.name), ())
        if not e.pod_uid or not pod.uid or e.pod_uid == pod.uid
    ]


def _when(event: EventInfo) -> str:
    return event.timestamp
