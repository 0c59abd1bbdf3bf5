"""Demo requests, made through the workflow like any other, so that their
timelines and audit events are real: one waiting for approval, one rejected,
and the guide's own example, approved."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from secrets_app.models import AccessRequest, Cluster
from secrets_app.requests import workflow


def seed_requests(arns: dict[str, str]) -> list[AccessRequest]:
    if AccessRequest.objects.exists():
        return []
    users = {u.username: u for u in get_user_model().objects.all()}
    dev = Cluster.objects.get(name="janus-dev")
    common = {"cluster": dev, "containers": ["app"], "mount_path": "/mnt/secrets-store"}

    guide = workflow.request_create(
        requester=users["alice"],
        service="data-access-service",
        namespace="deploy",
        workload_name="data-access-service",
        service_account="data-access-service-secrets",
        role_name="data-access-service-secrets",
        justification="The service reads the RDS password (the guide's example).",
        secrets=[
            {
                "secret": arns["dcp-db-password"],
                "alias": "dcp-db-password",
                "sync_secret_name": "dcp-db-password",
                "sync_keys": [
                    {"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}
                ],
            }
        ],
        **common,
    )
    waiting = workflow.request_create(
        requester=users["alice"],
        service="reporting",
        namespace="analytics",
        workload_name="reporting",
        service_account="reporting-secrets",
        justification="Nightly reports read the warehouse password.",
        secrets=[{"secret": arns["reporting/warehouse-password"], "alias": "warehouse-password"}],
        **common,
    )
    rejected = workflow.request_create(
        requester=users["alice"],
        service="payments",
        namespace="payments",
        workload_name="payments",
        service_account="payments-secrets",
        justification="Testing the Stripe integration.",
        secrets=[
            {
                "secret": arns["payments/stripe-key"],
                "alias": "stripe-key",
                "kms_key_arn": "",
            }
        ],
        **common,
    )
    workflow.request_reject(
        request_id=rejected.pk,
        approver=users["pat"],
        reason="Use the test-mode key in dev: ask for payments/stripe-test-key instead.",
    )
    workflow.request_approve(
        request_id=guide.pk, approver=users["pat"], comment="Matches the guide."
    )
    return [guide, waiting, rejected]
