"""Why a binding stays pending.

Pending means nothing is known to be wrong but not every pod has mounted
the secrets (``health.join._status``). For a sweep or two that is a rollout
in progress; for longer it is a question someone has to answer, so the pages
say which condition the binding still waits for, from what the last sweep
counted.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from secrets_app.health.status import HealthStatus
from secrets_app.models import Binding, HealthSnapshot


def pending_sweeps(snapshots: Iterable[HealthSnapshot]) -> int:
    """How many of the latest snapshots (newest first) in a row are pending."""
    run = 0
    for snap in snapshots:
        if snap.status != HealthStatus.PENDING:
            break
        run += 1
    return run


def long_pending(binding: Binding, snapshots: list[HealthSnapshot]) -> bool:
    """Pending now, and for at least ``HEALTH_PENDING_SWEEPS`` sweeps in a row
    (``snapshots``: the binding's latest, newest first, at least that many)."""
    return binding.health_status == HealthStatus.PENDING and pending_sweeps(snapshots) >= max(
        1, settings.HEALTH_PENDING_SWEEPS
    )


def pending_reason(binding: Binding, snapshot: HealthSnapshot) -> str:
    """The condition a pending binding waits for, in words, with its names."""
    workload = f"{binding.workload_kind} {binding.namespace}/{binding.workload_name}"
    expected, mounted = snapshot.pods_expected, snapshot.pods_mounted
    waiting = (snapshot.details or {}).get("pods_waiting", expected - mounted)
    if expected == 0:
        return (
            f"Waiting for pods: no running pod of {workload} mounts the SecretProviderClass "
            f"{binding.secret_provider_class}. The workload is not deployed yet, is scaled to "
            "zero, or its pods' secrets-store volume names no class of this binding."
        )
    if mounted == 0:
        return (
            f"Waiting for the first mount: {_pods(waiting)} of {workload} still creating "
            "(ContainerCreating) with no error event yet. If it lasts, read the pods' events "
            "and the AWS provider's log on their nodes."
        )
    return (
        f"Waiting for the rollout: {mounted} of {expected} pods of {workload} mounted, "
        f"{_pods(expected - mounted)} still mounting."
    )


def _pods(n: int) -> str:
    return f"{n} pod" if n == 1 else f"{n} pods"
