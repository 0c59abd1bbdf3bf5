"""Access requests as tests make them: pending ones with their grants, the
approval step, the state as stored, and the request form's POST data."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse

from secrets_app.models import AccessRequest, Cluster
from secrets_app.requests import workflow
from tests.factories import GUIDE_ARN, AccessRequestFactory, SecretGrantFactory


def make_pending(
    cluster: Cluster,
    *,
    secrets: int = 1,
    requester: Any = None,
    service: str = "data-access-service",
) -> AccessRequest:
    """A pending request of ``service`` for the guide's secret, plus
    ``secrets - 1`` more secrets (no Kubernetes secret synced). Two open
    requests of one service would write one folder: the second is refused
    before its pull requests are written (claims)."""
    kwargs = {"cluster": cluster, "service": service}
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


def request_form_data(cluster: Cluster, /, **overrides: str) -> dict[str, str]:
    """The request form's fields for data-access-service in ``cluster``;
    ``overrides`` replace any of them (``cluster`` included)."""
    data = {
        "cluster": str(cluster.pk),
        "service": "data-access-service",
        "namespace": "deploy",
        "workload_kind": "Deployment",
        "workload_name": "",
        "containers": "app",
        "service_account": "",
        "role_name": "",
        "mount_path": "/mnt/secrets-store",
        "justification": "Reads the RDS password.",
        "expires_on": "",
    }
    data.update(overrides)
    return data


def secrets_form_data(*secrets: dict[str, Any]) -> dict[str, str]:
    """The secrets formset's management form and one form per dict of
    ``secrets`` (the guide's secret, no sync, unless the dict says otherwise;
    a None value leaves the field out)."""
    data = {
        "secrets-TOTAL_FORMS": str(len(secrets)),
        "secrets-INITIAL_FORMS": "0",
        "secrets-MIN_NUM_FORMS": "1",
        "secrets-MAX_NUM_FORMS": "20",
    }
    for i, secret in enumerate(secrets):
        values = {
            "secret": GUIDE_ARN,
            "alias": "",
            "kms_key_arn": "",
            "jmes": "",
            "sync_secret_name": "",
            "sync_secret_type": "Opaque",
            "sync_keys": "",
        }
        values.update(secret)
        for key, value in values.items():
            if value is not None:
                data[f"secrets-{i}-{key}"] = value
    return data


def post_guide_request(client: Any, cluster: Cluster, /, **extra: Any) -> Any:
    """Submit the request page for data-access-service with two secrets (the
    guide's, synced as DB_PASSWORD, and an API key); ``extra`` adds or
    replaces fields (``action="preview"``, ``cluster=...``)."""
    data = {
        "cluster": cluster.pk,
        "service": "data-access-service",
        "namespace": "deploy",
        "workload_kind": "Deployment",
        "containers": "app",
        "mount_path": "/mnt/secrets-store",
        "justification": "Reads the RDS password and the API key.",
        "secrets-TOTAL_FORMS": "2",
        "secrets-INITIAL_FORMS": "0",
        "secrets-MIN_NUM_FORMS": "1",
        "secrets-MAX_NUM_FORMS": "20",
        "secrets-0-secret": GUIDE_ARN,
        "secrets-0-sync_secret_name": "dcp-db-password",
        "secrets-0-sync_secret_type": "Opaque",
        "secrets-0-sync_keys": "rds_password as DB_PASSWORD",
        "secrets-1-secret": "arn:aws:secretsmanager:us-west-2:287796791794:secret:api-key-AbC123",
        "secrets-1-sync_secret_type": "Opaque",
        "action": "submit",
    }
    data.update(extra)
    return client.post(reverse("request-create"), data)
