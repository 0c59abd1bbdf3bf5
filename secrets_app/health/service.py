"""Django side of mount health: bindings in, one sweep of a cluster, rows out.

The cluster is read outside any database transaction (a sweep can take
seconds); everything it produced is then written in one transaction with a
fixed number of bulk queries, whatever the number of bindings.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from secrets_app.health.collector import sweep
from secrets_app.health.join import evaluate
from secrets_app.health.types import BindingHealth, BindingTarget
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
    BindingState,
    Cluster,
    ClusterSweep,
    HealthSnapshot,
    HealthStatus,
    TaskRun,
)

log = logging.getLogger(__name__)

#: Bindings the sweep looks after: revoking ones still have pods until the PRs merge.
LIVE_STATES = (BindingState.ACTIVE, BindingState.REVOKING)
# A Deployment of 200 replicas failing the same way would store 200 copies of
# one message every few minutes; the first few say all there is to say.
MAX_FAILING_PODS = 10


def live_bindings(cluster: Cluster | int):
    return Binding.objects.filter(cluster=cluster, state__in=LIVE_STATES)


def binding_targets(cluster: Cluster | int) -> list[BindingTarget]:
    """What the portal expects in ``cluster``, one target per live binding (2 queries)."""
    bindings = live_bindings(cluster).prefetch_related("secrets").order_by("pk")
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
            secret_ids=tuple(s.arn for s in b.secrets.all()),
        )
        for b in bindings
    ]


def client_for(cluster: Cluster) -> KubeClient:
    """Explicit API URL (demo, tests) first, then a kubeconfig context, else in-cluster."""
    timeouts = Timeouts(read=settings.HEALTH_KUBE_READ_TIMEOUT)
    if cluster.kube_api_url:
        return connect_host(cluster.kube_api_url, timeouts=timeouts)
    if cluster.kube_context:
        return connect_kubeconfig(cluster.kube_context, timeouts=timeouts)
    return connect_in_cluster(timeouts=timeouts)


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
    targets = binding_targets(cluster)
    try:
        with client_for(cluster) as kube:
            snap = sweep(kube)
    except IntegrationError as error:
        log.warning("health sweep of %s failed: %s", cluster.name, error)
        record = record_failed_sweep(cluster, started, str(error))
        if raise_retryable and isinstance(error, RetryableError):
            raise
        return record
    results = evaluate(snap, targets)
    return _store(cluster, started, results, requests=snap.requests, pods=snap.items_seen["pods"])


@transaction.atomic
def record_failed_sweep(cluster: Cluster, started: datetime, error: str) -> ClusterSweep:
    """The cluster could not be read: say so, and stop showing old verdicts as current."""
    # health_checked_at stays: it dates the last snapshot, which pages show as stale.
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
    # Only the two health columns: a concurrent revoke must not be overwritten.
    Binding.objects.bulk_update(
        [
            Binding(pk=h.binding_id, health_status=h.status.value, health_checked_at=now)
            for h in results.values()
        ],
        ["health_status", "health_checked_at"],
    )
    counts = Counter(h.status.value for h in results.values())
    return ClusterSweep.objects.create(
        cluster=cluster,
        started_at=started,
        finished_at=now,
        ok=True,
        requests=requests,
        pods=pods,
        counts={s.value: counts.get(s.value, 0) for s in HealthStatus},
    )


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
        "annotation_ok": health.annotation_ok,
        "diagnosis": (
            {"code": d.code, "title": d.title, "cause": d.cause, "fix": d.fix} if d else None
        ),
    }
