"""AWS drift appears as soon as a verification finishes on a real Celery
worker (Redis broker, moto as AWS), without waiting for a health sweep; a
later passing verification clears it and keeps the cluster part."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from secrets_app.models import Binding, TaskRun
from tests.aws.aws_world import NAMESPACE, build_guide_world, irsa_trust
from tests.aws_portal.aws_portal_support import guide_binding
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CLUSTER_DRIFT = {
    "code": "sa-annotation-missing",
    "where": "serviceaccount",
    "expected": "arn:aws:iam::123456789012:role/x",
    "actual": "no eks.amazonaws.com/role-arn annotation",
    "message": "The ServiceAccount has no role annotation.",
    "unknown": False,
}


def runs_done(binding_id: int, n: int) -> bool:
    return (
        TaskRun.objects.filter(kind="verify", detail__binding_id=binding_id, outcome="succeeded")
        .exclude(finished_at=None)
        .count()
        >= n
    )


def test_verify_now_brings_aws_drift_to_the_binding(
    client, requester, moto_cluster, portal_aws, clients, worker
):
    world = build_guide_world(clients)
    binding = guide_binding(moto_cluster, world)
    # Merged an hour ago: past the drift grace period, so the page shows drift.
    Binding.objects.filter(pk=binding.pk).update(
        drift=[CLUSTER_DRIFT],
        has_drift=True,
        health_status="degraded",
        created_at=timezone.now() - timedelta(hours=1),
    )
    world.set_trust(irsa_trust(world.issuer, sub=f"system:serviceaccount:{NAMESPACE}:someone"))
    client.force_login(requester)
    client.post(reverse("binding-verify", args=[binding.pk]))
    wait_for(lambda: runs_done(binding.pk, 1), what="the first verification")

    binding.refresh_from_db()
    assert [(d["where"], d["code"]) for d in binding.drift] == [
        ("serviceaccount", "sa-annotation-missing"),
        ("aws", "trust.sub"),
    ]
    assert binding.has_drift is True and binding.drift_checked_at is not None
    html = client.get(binding.get_absolute_url()).content.decode()
    assert "trust.sub" in html and "sa-annotation-missing" in html

    world.set_trust(irsa_trust(world.issuer))
    client.post(reverse("binding-verify", args=[binding.pk]))
    wait_for(lambda: runs_done(binding.pk, 2), what="the second verification")
    binding.refresh_from_db()
    assert binding.drift == [CLUSTER_DRIFT]
