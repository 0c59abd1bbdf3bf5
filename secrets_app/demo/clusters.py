"""Demo clusters: loopback fake Kubernetes APIs. ``sandbox-eu`` is a
generated cluster with a binding in each health state the catalogue knows;
its namespace ``legacy`` holds bindings made by hand, for the import page;
``janus-dev`` starts empty, as a fresh cluster would before its first merge."""

from __future__ import annotations

from django.db import transaction

from fakes import legacy_objects as legacy
from fakes.cluster_gen import ACCOUNT, REGION, generate_cluster
from fakes.kube_api import FakeKubeApi
from secrets_app.demo import aws as demo_aws
from secrets_app.models import Binding, BindingSecret, BindingSource, Cluster
from secrets_app.ownership import claims
from secrets_app.rendering import name_rules

# One of each state the demo should show, then some healthy ones.
SANDBOX_MODES = [
    "healthy",
    "catalogue:2",  # AccessDenied on AssumeRoleWithWebIdentity
    "missing_annotation",
    "catalogue:4",  # KMS
    "wrong_class",
    "pending",
    "degraded",
    "catalogue:3",
    "catalogue:13",
    "healthy",
    "healthy",
    "healthy",
]

SANDBOX = {
    "name": "sandbox-eu",
    "environment": "staging",
    "aws_account_id": ACCOUNT,
    "region": REGION,
    "oidc_issuer": "oidc.eks.eu-west-1.amazonaws.com/id/5A4DB0XDEMO0000000000000000000EU",
    "required_approvals": 1,
    "repo_backend": "local",
    # Another account than the demo's: the portal reaches it through a role.
    "aws_role_arn": demo_aws.account_role(ACCOUNT),
}
#: The secrets the legacy namespace's hand-made bindings read.
LEGACY_SECRETS = ("legacy/billing-db", "reports/db-password", "legacy/smtp")


#: The fakes this process serves, by URL: where the demo applies a merged
#: deploy pull request (``demo.apply``).
RUNNING: dict[str, FakeKubeApi] = {}


def start_fake(objects: list[dict] | None = None) -> FakeKubeApi:
    fake = FakeKubeApi().start()
    if objects:
        fake.add_many(objects)
    RUNNING[fake.url] = fake
    return fake


@transaction.atomic
def seed_sandbox(url: str) -> Cluster:
    """The sandbox cluster and its (imported) bindings, matching the fake."""
    cluster, _ = Cluster.objects.update_or_create(
        name=SANDBOX["name"], defaults={**SANDBOX, "kube_api_url": url}
    )
    if cluster.bindings.exists():
        return cluster
    generated = sandbox_objects()[1]
    for target in generated.targets:
        binding = Binding.objects.create(
            cluster=cluster,
            namespace=target.namespace,
            service=target.workload_name,
            service_account=target.service_account,
            secret_provider_class=target.secret_provider_class,
            role_arn=target.role_arn,
            workload_kind=target.workload_kind,
            workload_name=target.workload_name,
            synced_secret_names=list(target.synced_secret_names),
            source=BindingSource.IMPORTED,
        )
        claims.take(claims.wanted_for_binding(binding), binding=binding)
        BindingSecret.objects.bulk_create(
            BindingSecret(
                binding=binding, arn=arn, name=name_rules.parse_secret_ref(arn).name, alias="db"
            )
            for arn in target.secret_ids
        )
    return cluster


def seed_sandbox_aws(endpoint: str) -> None:
    """The sandbox's account in the demo's AWS: its OIDC provider and the
    secrets its bindings read, so the request form finds them there."""
    generated = sandbox_objects()[1]
    names = {
        name_rules.parse_secret_ref(arn).name for t in generated.targets for arn in t.secret_ids
    }
    demo_aws.seed_account(
        endpoint,
        role_arn=SANDBOX["aws_role_arn"],
        region=SANDBOX["region"],
        issuer=SANDBOX["oidc_issuer"],
        secrets=sorted(names | set(LEGACY_SECRETS)),
    )


def sandbox_objects():
    generated = generate_cluster(
        pods=60, bindings=len(SANDBOX_MODES), mix=SANDBOX_MODES, seed=7, plain_pod_fraction=0.1
    )
    return [*generated.objects, *legacy_objects()], generated


def legacy_objects() -> list[dict]:
    """A namespace made by hand before the portal, for the import page: two
    bindings to adopt and one whose role annotation is no ARN."""
    where = {"account": ACCOUNT, "region": REGION}
    return [
        *legacy.hand_made_binding("legacy", "billing", secrets=[LEGACY_SECRETS[0]], **where),
        *legacy.hand_made_binding("legacy", "reports", replicas=1, **where),
        legacy.service_account("legacy", "mailer-secrets", role="mailer-role"),
        legacy.secret_provider_class(
            "legacy", "mailer-secrets", objects=[{"objectName": LEGACY_SECRETS[2]}], region=REGION
        ),
        *legacy.deployment_pods(
            "legacy", "mailer", service_account_name="mailer-secrets", classes=["mailer-secrets"]
        ),
    ]
