"""What the binding page's health, drift and verification sections show,
beyond the binding itself: one query each (the latest snapshots, the latest
verification), none for drift (it reads the history the page has)."""

from __future__ import annotations

from django.conf import settings

from secrets_app.bindings.drift_grace import applied_at, quiet_until
from secrets_app.bindings.history import Entry
from secrets_app.health.fixes import fix_for
from secrets_app.health.pending import long_pending, pending_reason, pending_sweeps
from secrets_app.health.readiness import rotation_enabled
from secrets_app.health.selectors import last_readiness
from secrets_app.models import Binding, HealthSnapshot, VerificationResult
from secrets_app.verification.summary import summarize


def health_section(binding: Binding) -> dict:
    # The latest few snapshots, newest first: enough to tell a binding pending
    # for a while from one that is still rolling out.
    snapshots = list(
        HealthSnapshot.objects.filter(binding=binding).order_by("-taken_at", "-id")[
            : max(1, settings.HEALTH_PENDING_SWEEPS)
        ]
    )
    snapshot = snapshots[0] if snapshots else None
    context: dict = {"snapshot": snapshot}
    if snapshot is None:
        return context
    code = snapshot.diagnosis_code or ((snapshot.details or {}).get("diagnosis") or {}).get("code")
    context["diagnosis_fix"] = fix_for(code, binding) if code else None
    if long_pending(binding, snapshots):
        context["pending_reason"] = pending_reason(binding, snapshot)
        context["pending_sweeps"] = pending_sweeps(snapshots)
    return context


def drift_section(binding: Binding, history: list[Entry]) -> dict:
    return {"drift_quiet_until": quiet_until(binding, history), "applied_at": applied_at(history)}


def verification_section(binding: Binding) -> dict:
    result = VerificationResult.objects.filter(binding=binding).first()
    return {
        "verification": result,
        "checks": summarize(result.findings or []) if result else None,
    }


def versions_section(binding: Binding) -> dict:
    """Whether the cluster's driver rotates mounted secrets (its last
    readiness check), asked only when the binding is stale: one query then."""
    if binding.stale_since is None:
        return {}
    return {"driver_rotates": rotation_enabled(last_readiness(binding.cluster))}
