"""Access requests as tests make them: pending ones with their grants, the
approval step, the state as stored."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from secrets_app.models import AccessRequest, Cluster
from secrets_app.requests import workflow
from tests.factories import AccessRequestFactory, SecretGrantFactory


def make_pending(cluster: Cluster, *, secrets: int = 1, requester: Any = None) -> AccessRequest:
    """A pending request of data-access-service for the guide's secret, plus
    ``secrets - 1`` more secrets (no Kubernetes secret synced)."""
    kwargs = {"cluster": cluster, "service": "data-access-service"}
    if requester is not None:
        kwargs["requester"] = requester
    request = AccessRequestFactory(**kwargs)
    SecretGrantFactory(request=request)
    for i in range(1, secrets):
        SecretGrantFactory(
            request=request,
            alias=f"extra-{i}",
            secret=f"arn:aws:secretsmanager:us-west-2:287796791794:secret:extra-{i}-AbCdE{i % 10}",
            sync_secret_name="",
            sync_keys=[],
        )
    return request


def approve(request: AccessRequest, approver: Any) -> None:
    """Approve as the page does: in a transaction, so on-commit tasks are queued."""
    with transaction.atomic():
        workflow.request_approve(request_id=request.pk, approver=approver)


def state_of(request: AccessRequest) -> str:
    """The request's state in the database (not the instance's)."""
    return AccessRequest.objects.values_list("state", flat=True).get(pk=request.pk)
