"""Migration 0007 claims what exists when claims arrive: live bindings hold
their ServiceAccount, role and recorded files; open grants their
ServiceAccount and role; open revocations their binding. Where two already
hold one thing (a takeover from before the fix), the older keeps it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("secrets_app", "0006_lifecycle_records")]
AFTER = [("secrets_app", "0007_ownership_and_claims")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_bindings_and_open_requests_are_claimed_the_older_first():
    old = migrate(BEFORE)
    try:
        user = old.get_model("auth", "User").objects.create(username="alice")
        cluster = old.get_model("secrets_app", "Cluster").objects.create(
            name="janus-dev", aws_account_id="287796791794", region="us-west-2"
        )
        Binding = old.get_model("secrets_app", "Binding")
        Request = old.get_model("secrets_app", "AccessRequest")
        binding = Binding.objects.create(
            cluster=cluster,
            namespace="deploy",
            service="app",
            service_account="app-secrets",
            secret_provider_class="app-secrets",
            role_arn="arn:aws:iam::287796791794:role/team/App-Role",
            workload_name="app",
            files={"deploy": ["clusters/janus-dev/deploy/app/secrets/kustomization.yaml"]},
        )
        fields = {"cluster": cluster, "requester": user, "justification": "x", "workload_name": "w"}
        # A takeover from before the fix: another request typed the same role.
        takeover = Request.objects.create(
            service="other",
            namespace="deploy",
            service_account="other-secrets",
            role_name="app-role",
            state="pending",
            **fields,
        )
        revocation = Request.objects.create(
            service="app",
            namespace="deploy",
            service_account="app-secrets",
            kind="revoke",
            revokes=binding,
            state="approved",
            **fields,
        )
        Request.objects.create(
            service="gone", namespace="deploy", service_account="gone", state="rejected", **fields
        )

        new = migrate(AFTER)
        Claim = new.get_model("secrets_app", "Claim")
        deploy_repo = settings.PORTAL_DEPLOY_REPO.lower()  # GitHub names, case folded
        held = {(c.kind, c.key): (c.binding_id, c.request_id) for c in Claim.objects.all()}
        assert held == {
            ("service_account", f"{cluster.pk}/deploy/app-secrets"): (binding.pk, None),
            ("role", "287796791794/app-role"): (binding.pk, None),
            ("path", f"{deploy_repo}:clusters/janus-dev/deploy/app/secrets/kustomization.yaml"): (
                binding.pk,
                None,
            ),
            ("service_account", f"{cluster.pk}/deploy/other-secrets"): (None, takeover.pk),
            ("binding", str(binding.pk)): (None, revocation.pk),
        }
    finally:
        migrate([("secrets_app", max_migration())])


def max_migration() -> str:
    executor = MigrationExecutor(connection)
    return max(name for app, name in executor.loader.graph.leaf_nodes() if app == "secrets_app")
