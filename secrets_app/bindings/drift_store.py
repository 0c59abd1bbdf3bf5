"""Django side of drift: each binding's records from what the health join
found, and the AWS part refreshed when a verification finishes.

The sweep writes drift together with health (``health.service._store``);
this module adds no query to it: the latest verification's findings come in
the sweep's own bindings query as a subquery annotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from secrets_app.bindings import drift
from secrets_app.health.types import BindingHealth, BindingTarget
from secrets_app.models import Binding, BindingState, VerificationResult

#: Annotation with the findings of the binding's latest verification that
#: reached AWS (a result with an error says nothing about the binding).
LATEST_FINDINGS = "latest_verification_findings"


def _reached_aws(binding) -> QuerySet[VerificationResult]:
    """Verification results of ``binding`` (a row, a pk or an ``OuterRef``)
    that reached AWS, newest first: a result with an error says nothing about
    the binding."""
    return VerificationResult.objects.filter(binding=binding, error="").order_by(
        "-checked_at", "-id"
    )


def with_latest_findings(queryset: QuerySet[Binding]) -> QuerySet[Binding]:
    return queryset.annotate(
        **{
            LATEST_FINDINGS: Subquery(
                _reached_aws(OuterRef("pk")).values("findings")[:1], output_field=JSONField()
            )
        }
    )


def drift_for(
    rows: Sequence[Binding],
    targets: Sequence[BindingTarget],
    health: Mapping[Any, BindingHealth],
) -> dict[int, list[dict[str, Any]]]:
    """Drift records of each binding, keyed by its id: ``targets`` are built
    from ``rows`` (``with_latest_findings``), ``health`` is the join's."""
    return {
        b.pk: drift.from_health(t, health[t.id], getattr(b, LATEST_FINDINGS, None))
        for b, t in zip(rows, targets, strict=True)
    }


@transaction.atomic
def binding_refresh_aws_drift(*, binding_id: int) -> Binding | None:
    """Replace the AWS part of a binding's drift with its latest verification,
    so AWS drift shows without waiting for the next sweep. Revoked bindings
    and outages (no verification reached AWS) are left alone."""
    binding = (
        Binding.objects.select_for_update()
        .exclude(state=BindingState.REVOKED)
        .filter(pk=binding_id)
        .first()
    )
    if binding is None:
        return None
    findings = _reached_aws(binding_id).values_list("findings", flat=True).first()
    if findings is None:
        return binding
    records = drift.merge_aws(binding.drift or [], drift.aws_drift(findings))
    binding.drift = records
    found = drift.has_drift(records)
    # No AWS drift says nothing about the cluster side: "never checked" stays
    # so until a sweep has looked.
    if found or binding.has_drift is not None:
        binding.has_drift = found
    binding.drift_checked_at = timezone.now()
    binding.save(update_fields=["drift", "has_drift", "drift_checked_at"])
    return binding
