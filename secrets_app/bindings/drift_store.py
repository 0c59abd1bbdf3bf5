"""Django side of drift: what each binding expects, built from rows the health
sweep already loads, and the AWS part refreshed when a verification finishes.

The sweep writes drift together with health (``health.service._store``);
this module adds no query to it: the latest verification's findings come in
the sweep's own bindings query as a subquery annotation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from secrets_app.bindings import drift
from secrets_app.health.collector import ClusterSnapshot
from secrets_app.models import Binding, BindingState, Cluster, VerificationResult
from secrets_app.models.clusters import IdentityMode

#: Annotation with the findings of the binding's latest verification that
#: reached AWS (a result with an error says nothing about the binding).
LATEST_FINDINGS = "latest_verification_findings"


def _latest_results():
    return VerificationResult.objects.filter(binding=OuterRef("pk"), error="").order_by(
        "-checked_at", "-id"
    )


def with_latest_findings(queryset: QuerySet[Binding]) -> QuerySet[Binding]:
    return queryset.annotate(
        **{
            LATEST_FINDINGS: Subquery(
                _latest_results().values("findings")[:1], output_field=JSONField()
            )
        }
    )


def expectation(binding: Binding, *, pod_identity: bool) -> drift.Expectation:
    """``binding`` with its ``secrets`` prefetched and ``with_latest_findings``."""
    return drift.Expectation(
        id=binding.pk,
        namespace=binding.namespace,
        service_account=binding.service_account,
        secret_provider_class=binding.secret_provider_class,
        workload_kind=binding.workload_kind,
        workload_name=binding.workload_name,
        role_arn=binding.role_arn,
        pod_identity=pod_identity,
        secrets=tuple(drift.ExpectedSecret(s.arn, s.name, s.alias) for s in binding.secrets.all()),
        aws_findings=getattr(binding, LATEST_FINDINGS, None),
    )


def drift_for(
    snapshot: ClusterSnapshot, bindings: Iterable[Binding], cluster: Cluster
) -> dict[int, list[dict[str, Any]]]:
    """Drift records of each binding, keyed by its id."""
    pod_identity = cluster.identity_mode == IdentityMode.POD_IDENTITY
    return {
        b.pk: drift.check(snapshot, expectation(b, pod_identity=pod_identity)) for b in bindings
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
    findings = (
        VerificationResult.objects.filter(binding_id=binding_id, error="")
        .order_by("-checked_at", "-id")
        .values_list("findings", flat=True)
        .first()
    )
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
