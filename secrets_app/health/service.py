"""Django side of mount health: bindings in, one sweep of a cluster, rows out.

The cluster is read outside any database transaction (a sweep can take
seconds); everything it produced is then written in one transaction with a
fixed number of bulk queries, whatever the number of bindings. What it read
about namespaces (team labels, the ServiceAccounts workloads run as) is
stored right after, in a transaction of its own (``record_ownership``).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.bindings import drift as drift_checks
from secrets_app.bindings.drift_store import drift_for, with_latest_findings
from secrets_app.health import readiness, rotation
from secrets_app.health.collector import ClusterSnapshot, sweep
from secrets_app.health.join import evaluate
from secrets_app.health.leftovers import cluster_leftovers
from secrets_app.health.types import BindingHealth, BindingTarget, ExpectedSecret
from secrets_app.integrations.errors import IntegrationError, RetryableError
from secrets_app.integrations.kube import (
    KubeClient,
    Timeouts,
    connect_host,
    connect_in_cluster,
    connect_kubeconfig,
)
from secrets_app.models import (
    Binding,
    BindingSecret,
    BindingState,
    Cluster,
    ClusterSweep,
    HealthSnapshot,
    HealthStatus,
    Namespace,
    TaskRun,
)
from secrets_app.models.clusters import IdentityMode
from secrets_app.notifications import notify_stale_bindings
from secrets_app.ownership import teams
from secrets_app.pagecache.tracking import cluster_writes

log = logging.getLogger(__name__)

#: Bindings the sweep looks after: revoking ones still have pods until the PRs merge.
LIVE_STATES = (BindingState.ACTIVE, BindingState.REVOKING)
# A Deployment of 200 replicas failing the same way would store 200 copies of
# one message every few minutes; the first few say all there is to say.
MAX_FAILING_PODS = 10


def live_bindings(cluster: Cluster | int):
    return Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)


def live_rows(cluster: Cluster | int) -> list[Binding]:
    """Live bindings with their secrets and latest AWS findings (2 queries):
    the join's targets, and the AWS part of drift; each with ``wants_restart``
    (its request asks Reloader to restart pods)."""
    rows = with_latest_findings(live_bindings(cluster).prefetch_related("secrets"))
    rows = rows.annotate(wants_restart=F("request__restart_on_change"))
    return list(rows.order_by("pk"))


def binding_targets(cluster: Cluster, rows: list[Binding] | None = None) -> list[BindingTarget]:
    """What the portal expects in ``cluster``, one target per live binding
    (2 queries, none when given the ``live_rows``)."""
    pod_identity = cluster.identity_mode == IdentityMode.POD_IDENTITY
    return [
        BindingTarget(
            id=b.pk,
            namespace=b.namespace,
            service_account=b.service_account,
            secret_provider_class=b.secret_provider_class,
            workload_kind=b.workload_kind,
            workload_name=b.workload_name,
            role_arn=b.role_arn,
            synced_secret_names=tuple(b.synced_secret_names or ()),
            secrets=tuple(ExpectedSecret(s.arn, s.name, s.alias) for s in b.secrets.all()),
            pod_identity=pod_identity,
        )
        for b in (live_rows(cluster) if rows is None else rows)
    ]


def client_for(cluster: Cluster) -> KubeClient:
    """Explicit API URL (demo, tests) first, then a kubeconfig context, else in-cluster."""
    timeouts = Timeouts(read=settings.HEALTH_KUBE_READ_TIMEOUT)
    if cluster.kube_api_url:
        return connect_host(cluster.kube_api_url, timeouts=timeouts)
    if cluster.kube_context:
        return connect_kubeconfig(cluster.kube_context, timeouts=timeouts)
    return connect_in_cluster(timeouts=timeouts)


#: What a sweep writes, each row the swept cluster's own (its bindings, their
#: snapshots, its sweep record, its namespaces).
SWEPT_MODELS = (Binding, ClusterSweep, HealthSnapshot, Namespace)


def sweep_cluster(cluster_id: int, *, raise_retryable: bool = False) -> ClusterSweep | None:
    """Sweep one cluster and store what it saw; ``None`` if the cluster is gone.

    A cluster that cannot be read is recorded as a failed ``ClusterSweep`` and
    its bindings become ``unknown`` with their last snapshot kept. The error is
    swallowed unless ``raise_retryable`` (tasks) and retrying can help.
    """
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return None
    started = timezone.now()
    rows = live_rows(cluster)
    targets = binding_targets(cluster, rows)
    try:
        with client_for(cluster) as kube:
            snap = sweep(
                kube,
                team_label=settings.PORTAL_NAMESPACE_TEAM_LABEL,
                driver_namespace=settings.PORTAL_DRIVER_NAMESPACE,
                reloader_selector=settings.PORTAL_RELOADER_SELECTOR,
            )
    except IntegrationError as error:
        log.warning("health sweep of %s failed: %s", cluster.name, error)
        with cluster_writes(cluster.pk, SWEPT_MODELS):
            record = record_failed_sweep(cluster, started, str(error))
        if raise_retryable and isinstance(error, RetryableError):
            raise
        return record
    results = evaluate(snap, targets)
    versions = check_versions(cluster, results) if settings.PORTAL_ROTATION_CHECK else None
    drift = drift_for(rows, targets, results)
    # What is left of bindings being revoked: the removal check after the
    # sweep revokes those with nothing left here nor in AWS.
    leftovers = {
        t.id: cluster_leftovers(snap, t)
        for row, t in zip(rows, targets, strict=True)
        if row.state == BindingState.REVOKING
    }
    checklist = readiness.assess(
        snap,
        readiness_needs(cluster, rows, targets, snap),
        driver_namespace=settings.PORTAL_DRIVER_NAMESPACE,
    )
    # Only this cluster's rows: its own pages' cached fragments move, the
    # other clusters' stay (secrets_app/pagecache).
    with cluster_writes(cluster.pk, SWEPT_MODELS):
        stored = _store(
            cluster,
            started,
            results,
            checklist=checklist,
            requests=snap.requests,
            pods=snap.items_seen["pods"],
            drift=drift,
            leftovers=leftovers,
            versions=versions,
        )
        record_ownership(cluster, snap)
    if versions:
        notify_stale_bindings(cluster.pk)
    return stored


def readiness_needs(
    cluster: Cluster, rows: list[Binding], targets: list[BindingTarget], snap: ClusterSnapshot
) -> readiness.Needs:
    """What the live bindings ask of the cluster: from the rows already read,
    plus one query when requests can ask for restart on change."""
    classes = snap.classes
    nodes: set[str] = set()
    for t in targets:
        for pod in snap.pods_by_class.get((t.namespace, t.secret_provider_class), ()):
            if pod.active and pod.node:
                nodes.add(pod.node)
    uses_pod_identity = cluster.identity_mode == IdentityMode.POD_IDENTITY or any(
        (info := classes.get((t.namespace, t.secret_provider_class))) and info.use_pod_identity
        for t in targets
    )
    return readiness.Needs(
        syncs=any(t.synced_secret_names for t in targets),
        pod_identity=uses_pod_identity,
        reloader=_restart_on_change(rows),
        nodes=nodes,
    )


def _restart_on_change(rows: list[Binding]) -> bool:
    # Read through the rows' annotation (``live_rows``): no query of its own.
    return any(getattr(b, "wants_restart", False) for b in rows)


def check_versions(
    cluster: Cluster, results: dict[Any, BindingHealth]
) -> dict[Any, list[rotation.SecretVersions]]:
    """Per binding with mounted pods, what each secret's pods mount against
    its current version (``health/rotation.py``): one query for the bound
    secrets, AWS calls once per sweep."""
    mounted = [h for h in results.values() if h.pod_objects]
    if not mounted:
        return {}
    secrets: dict[Any, list[rotation.BoundSecret]] = {}
    for binding_id, arn, name, alias in BindingSecret.objects.filter(
        binding_id__in=[h.binding_id for h in mounted]
    ).values_list("binding_id", "arn", "name", "alias"):
        secrets.setdefault(binding_id, []).append(rotation.BoundSecret(arn, name, alias))
    current = rotation.CurrentVersions(
        adapter_for(cluster), account=cluster.aws_account_id, region=cluster.region
    ).load(s for found in secrets.values() for s in found)
    now = timezone.now()
    grace = timedelta(minutes=settings.PORTAL_STALE_GRACE_MINUTES)
    return {
        h.binding_id: rotation.secret_versions(
            secrets.get(h.binding_id, []), h.pod_objects, current, now=now, grace=grace
        )
        for h in mounted
    }


def record_ownership(cluster: Cluster, snap: ClusterSnapshot) -> None:
    """Store each namespace's team label and its workloads' ServiceAccounts.

    After ``_store`` and in its own transaction rather than inside it: the
    binding rows that ``_store`` locks are released before the namespace
    rows are locked (no lock held across both), and the health verdicts,
    the sweep's main result, never roll back because of ownership. The one
    expected failure is an admin creating a namespace row by hand while the
    sweep inserts the same one; the next sweep then updates that row.
    """
    # Only namespaces the list returned: a namespace known from its pods alone
    # (deleted between the two lists) says nothing about its label, and must
    # not clear the owner the last sweep recorded.
    listed = snap.namespace_labels
    if not listed:  # a real cluster always has some; a fake may have none
        return
    accounts = {ns: w for ns, w in snap.workload_accounts.items() if ns in listed}
    try:
        teams.record_namespaces(cluster, listed, accounts)
    except IntegrityError as error:
        log.warning("namespaces of %s not recorded this sweep: %s", cluster.name, error)


@transaction.atomic
def record_failed_sweep(cluster: Cluster, started: datetime, error: str) -> ClusterSweep:
    """The cluster could not be read: say so, and stop showing old verdicts as current."""
    # health_checked_at stays: it dates the last snapshot, which pages show as stale.
    # So do drift (nothing was compared) and failing_since (unknown is no recovery).
    unknown = live_bindings(cluster).update(health_status=HealthStatus.UNKNOWN)
    return ClusterSweep.objects.create(
        cluster=cluster,
        started_at=started,
        finished_at=timezone.now(),
        ok=False,
        error=error[:4000],
        counts={HealthStatus.UNKNOWN.value: unknown},
    )


@transaction.atomic
def _store(
    cluster: Cluster,
    started: datetime,
    results: dict[Any, BindingHealth],
    *,
    requests: int,
    pods: int,
    drift: dict[Any, list[dict[str, Any]]] | None = None,
    leftovers: dict[Any, list[dict[str, str]]] | None = None,
    versions: dict[Any, list[rotation.SecretVersions]] | None = None,
    checklist: list[dict[str, Any]] | None = None,
) -> ClusterSweep:
    now = timezone.now()
    snapshots = [
        HealthSnapshot(
            binding_id=h.binding_id,
            status=h.status.value,
            pods_expected=h.pods_expected,
            pods_mounted=h.pods_mounted,
            last_error=h.last_error,
            diagnosis_code=h.diagnosis.code if h.diagnosis else "",
            details=snapshot_details(h),
            taken_at=now,
        )
        for h in results.values()
    ]
    HealthSnapshot.objects.bulk_create(snapshots)
    # Only the health and drift columns: a concurrent revoke must not be overwritten.
    drift = drift or {}
    leftovers = _with_aws_part(leftovers or {})
    rows = []
    for h in results.values():
        row = Binding(
            pk=h.binding_id,
            health_status=h.status.value,
            health_checked_at=now,
            failing_since=_failing_since(h, now),
        )
        if h.binding_id in drift:
            row.drift = drift[h.binding_id]
            row.has_drift = drift_checks.has_drift(row.drift)
            row.drift_checked_at = now
        else:
            row.drift, row.has_drift, row.drift_checked_at = (
                F("drift"),
                F("has_drift"),
                F("drift_checked_at"),
            )
        row.leftovers = leftovers.get(h.binding_id, F("leftovers"))
        # "Unused" access reads this: kept from the row when no pod mounts it.
        row.last_mounted_at = now if h.pods_mounted > 0 else F("last_mounted_at")
        if versions is not None:
            # None: not checked this sweep (the setting is off): keep the last.
            found = versions.get(h.binding_id, [])
            row.versions = [v.as_json() for v in found]
            row.stale_since = rotation.stale_since(found)
        else:
            row.versions, row.stale_since = F("versions"), F("stale_since")
        rows.append(row)
    Binding.objects.bulk_update(rows, DRIFT_AND_HEALTH_FIELDS)
    counts = Counter(h.status.value for h in results.values())
    return ClusterSweep.objects.create(
        cluster=cluster,
        started_at=started,
        finished_at=now,
        ok=True,
        requests=requests,
        pods=pods,
        counts={s.value: counts.get(s.value, 0) for s in HealthStatus},
        readiness=checklist or [],
    )


DRIFT_AND_HEALTH_FIELDS = [
    "health_status",
    "health_checked_at",
    "failing_since",
    "drift",
    "has_drift",
    "drift_checked_at",
    "leftovers",
    "versions",
    "stale_since",
    "last_mounted_at",
]


def _with_aws_part(cluster: dict[Any, list[dict[str, str]]]) -> dict[Any, list[dict[str, str]]]:
    """Each binding's new cluster leftovers beside the AWS ones the removal
    check wrote, read under lock (one query, none without bindings being
    revoked): that check may have written since the sweep read the rows, or
    revoked the binding (which then keeps its empty list)."""
    if not cluster:
        return {}
    current = {
        pk: leftovers
        for pk, state, leftovers in Binding.objects.select_for_update()
        .filter(pk__in=list(cluster))
        .order_by("pk")
        .values_list("pk", "state", "leftovers")
        if state == BindingState.REVOKING
    }
    return {
        pk: [*found, *(e for e in current[pk] or [] if e.get("where") != "cluster")]
        for pk, found in cluster.items()
        if pk in current
    }


def _failing_since(health: BindingHealth, now: datetime):
    # Kept from the row when already failing (one UPDATE, no read): the
    # "failing for more than N minutes" notification counts from the first sweep.
    if health.status.value == HealthStatus.FAILING:
        return Coalesce(F("failing_since"), Value(now))
    return None


@transaction.atomic
def prune_history(cutoff: datetime, *, task_kind: str) -> dict[str, int]:
    """Delete snapshots, sweeps and sweep task runs from before ``cutoff``,
    except each binding's latest snapshot (still shown, as stale)."""
    latest = HealthSnapshot.objects.filter(binding=OuterRef("binding")).order_by("-taken_at", "-id")
    snapshots, _ = (
        HealthSnapshot.objects.filter(taken_at__lt=cutoff)
        .exclude(pk=Subquery(latest.values("pk")[:1]))
        .delete()
    )
    sweeps, _ = ClusterSweep.objects.filter(started_at__lt=cutoff).delete()
    runs, _ = TaskRun.objects.filter(kind=task_kind, started_at__lt=cutoff).delete()
    return {"snapshots": snapshots, "sweeps": sweeps, "task_runs": runs}


def snapshot_details(health: BindingHealth) -> dict[str, Any]:
    """What the binding page shows beyond the columns, as JSON."""
    d = health.diagnosis
    return {
        "failing_pods": [
            {"pod": p.pod, "message": p.message} for p in health.failing_pods[:MAX_FAILING_PODS]
        ],
        "failing_pods_total": len(health.failing_pods),
        "pods_waiting": health.pods_waiting,
        "object_versions": {k: list(v) for k, v in health.object_versions.items()},
        "findings": list(health.findings),
        "synced_secrets_present": list(health.synced_secrets_present),
        "synced_secrets_missing": list(health.synced_secrets_missing),
        "service_account_found": health.service_account_found,
        "renamed_service_account": health.renamed_service_account,
        "annotation_ok": health.annotation_ok,
        "diagnosis": (
            {"code": d.code, "title": d.title, "cause": d.cause, "fix": d.fix} if d else None
        ),
    }
