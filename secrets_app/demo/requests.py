"""Demo requests, filed and decided through the services like any other, so
that their checks, timelines and audit events are real: one waiting for
approval, one rejected, and the guide's own example, approved."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from secrets_app.models import AccessRequest, Cluster
from secrets_app.requests import workflow
from secrets_app.requests.filing import request_file


def seed_requests(arns: dict[str, str]) -> list[AccessRequest]:
    if AccessRequest.objects.exists():
        return []
    users = {u.username: u for u in get_user_model().objects.all()}
    dev = Cluster.objects.get(name="janus-dev")

    def file(
        service: str, namespace: str, justification: str, secrets: list[dict], **more: Any
    ) -> AccessRequest:
        """Alice's request for ``service``'s Deployment in janus-dev, filed as
        the page would, with the guide's defaults for the other names."""
        data = {
            "cluster": dev,
            "service": service,
            "namespace": namespace,
            "containers": ["app"],
            "justification": justification,
            "secrets": secrets,
            **more,
        }
        return request_file(requester=users["alice"], data=data).request

    guide = file(
        "data-access-service",
        "deploy",
        "The service reads the RDS password (the guide's example).",
        [
            {
                "secret": arns["dcp-db-password"],
                "alias": "dcp-db-password",
                "sync_secret_name": "dcp-db-password",
                "sync_keys": [
                    {"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}
                ],
            }
        ],
    )
    waiting = file(
        "reporting",
        "analytics",
        "Nightly reports read the warehouse password.",
        [{"secret": arns["reporting/warehouse-password"], "alias": "warehouse-password"}],
    )
    rejected = file(
        "billing-export",
        "analytics",
        "Testing the Stripe integration.",
        [{"secret": arns["payments/stripe-key"], "alias": "stripe-key", "kms_key_arn": ""}],
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
