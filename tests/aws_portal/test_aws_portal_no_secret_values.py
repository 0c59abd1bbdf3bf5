"""Every AWS path of the portal in one journey (admin refresh, picker, form
lookup with a customer-managed key, verification), with what went over the
wire: metadata calls only, never a secret's value."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.aws_portal import verify_binding_now
from secrets_app.models import SecretGrant
from tests.aws.aws_world import build_guide_world
from tests.aws_portal.aws_portal_support import guide_binding
from tests.support.aws import VALUE_READS

pytestmark = pytest.mark.django_db


def test_no_request_of_the_portal_reads_a_secret_value(
    client, admin_user, moto_cluster, portal_aws, clients
):
    world = build_guide_world(clients, customer_key=True)
    client.force_login(admin_user)
    client.post(
        reverse("admin:secrets_app_cluster_changelist"),
        {"action": "refresh_from_aws", "_selected_action": [moto_cluster.pk]},
    )
    moto_cluster.refresh_from_db()
    assert moto_cluster.oidc_issuer == world.issuer
    picked = client.get(reverse("aws-secret-picker"), {"cluster": moto_cluster.pk, "q": "dcp"})
    assert world.secret_arn in picked.content.decode()
    data = {
        "cluster": str(moto_cluster.pk),
        "service": "billing",
        "namespace": "deploy",
        "workload_kind": "Deployment",
        "containers": "app",
        "mount_path": "/mnt/secrets-store",
        "justification": "Reads the RDS password.",
        "action": "submit",
        "secrets-TOTAL_FORMS": "1",
        "secrets-INITIAL_FORMS": "0",
        "secrets-0-secret": "dcp-db-password",
        "secrets-0-sync_secret_type": "Opaque",
    }
    assert client.post(reverse("request-create"), data).status_code == 302
    assert SecretGrant.objects.get().kms_key_arn == world.kms_key_arn
    assert verify_binding_now(guide_binding(moto_cluster, world).pk).ok

    sent = portal_aws.operations()
    assert not VALUE_READS & set(sent), sent
    # The journey did reach every kind of metadata call.
    assert {
        "secretsmanager:DescribeSecret",
        "secretsmanager:ListSecrets",
        "kms:DescribeKey",
        "iam:ListOpenIDConnectProviders",
        "iam:GetRole",
        "iam:GetPolicyVersion",
        "eks:GET /clusters/dcp-dev",
    } <= set(sent)
