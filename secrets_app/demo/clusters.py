"""Demo clusters: loopback fake Kubernetes APIs. ``sandbox-eu`` is a
generated cluster whose teams' services show the health states the
catalogue knows (``SANDBOX_STORY``);
its namespace ``legacy`` holds bindings made by hand, for the import page;
``janus-dev`` starts empty, as a fresh cluster would before its first merge.
Both run the driver, the AWS provider and the rest a binding needs
(``fakes.cluster_ready``), except that the sandbox's driver is not ready on
every node and has rotation off: its readiness checklist shows a finding
(and why pods there keep old secret versions after a rotation)."""

from __future__ import annotations

from django.db import transaction

from fakes import legacy_objects as legacy
from fakes.cluster_gen import ACCOUNT, REGION, generate_cluster
from fakes.kube_api import FakeKubeApi
from secrets_app.demo import aws as demo_aws
from secrets_app.demo.versions import STALE_SERVICE
from secrets_app.models import Binding, BindingSecret, BindingSource, Cluster
from secrets_app.ownership import claims
from secrets_app.rendering import name_rules

#: The sandbox's story, one binding each: (namespace, service, what the
#: generated cluster does with it). Each team runs its services in its own
#: namespace; most mount fine, a few fail the ways the catalogue knows, and
#: exactly two drifted from what the portal recorded (someone edited the
#: cluster by hand): ledger-worker's ServiceAccount lost its role annotation,
#: and checkout-web's pods mount a class whose name has a typo. Everything
#: else in the cluster is what the portal expects.
SANDBOX_STORY = [
    ("payments", "payments-api", "healthy"),
    ("payments", "payouts-worker", "catalogue:2"),  # AccessDenied on AssumeRoleWithWebIdentity
    ("ledger", "ledger-worker", "missing_annotation"),  # drifted: annotation removed by hand
    ("payments", "refunds-worker", "catalogue:4"),  # the KMS key does not let the role decrypt
    ("checkout", "checkout-web", "wrong_class"),  # drifted: pods mount "...-secrets-typo"
    ("checkout", "cart-api", "pending"),  # rolling out: pods still starting
    ("search", "search-indexer", "degraded"),  # half its pods fail
    ("search", "catalog-api", "catalogue:3"),  # no policy allows GetSecretValue
    ("data", "reporting-exporter", "catalogue:13"),  # the synced Secret names a missing file
    ("ledger", "ledger-api", "healthy"),
    ("data", "warehouse-loader", "healthy"),
    ("search", "search-api", "healthy"),
]
SANDBOX_MODES = [mode for _, _, mode in SANDBOX_STORY]
#: The services whose cluster objects differ from what the portal recorded.
SANDBOX_DRIFTED = {
    service for _, service, mode in SANDBOX_STORY if mode in ("missing_annotation", "wrong_class")
}

#: What the sandbox lacks (``fakes.cluster_ready.READINESS_KINDS``).
SANDBOX_READINESS = ("driver_not_ready", "no_rotation")

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
        # The secrets as the cluster mounts them (ARN, name and file name):
        # recorded otherwise, every binding would show drift the story lacks.
        BindingSecret.objects.bulk_create(
            BindingSecret(binding=binding, arn=s.arn, name=s.name, alias=s.alias)
            for s in target.secrets
        )
    return cluster


def seed_sandbox_aws(endpoint: str) -> dict[str, str]:
    """The sandbox's account in the demo's AWS: its OIDC provider and the
    secrets its bindings read, so the request form finds them there (name ->
    the VersionId its pods mount)."""
    generated = sandbox_objects()[1]
    names = {
        name_rules.parse_secret_ref(arn).name for t in generated.targets for arn in t.secret_ids
    }
    return demo_aws.seed_account(
        endpoint,
        role_arn=SANDBOX["aws_role_arn"],
        region=SANDBOX["region"],
        issuer=SANDBOX["oidc_issuer"],
        secrets=sorted(names | set(LEGACY_SECRETS)),
    )


def rotate_story_secret(endpoint: str) -> str:
    """Rotate the secret of ``versions.STALE_SERVICE`` after its pods mounted
    it: they keep the old version (the story's stale binding)."""
    (target,) = [t for t in sandbox_objects()[1].targets if t.workload_name == STALE_SERVICE]
    return demo_aws.rotate_secret(
        endpoint,
        role_arn=SANDBOX["aws_role_arn"],
        region=SANDBOX["region"],
        name=name_rules.parse_secret_ref(target.secret_ids[0]).name,
    )


def sandbox_objects():
    generated = generate_cluster(
        pods=60,
        bindings=len(SANDBOX_STORY),
        mix=SANDBOX_MODES,
        seed=7,
        plain_pod_fraction=0.1,
        names=lambda i: SANDBOX_STORY[i][:2],
        readiness=SANDBOX_READINESS,
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
