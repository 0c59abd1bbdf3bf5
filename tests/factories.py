import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    Claim,
    Cluster,
    Namespace,
    RequestState,
    SecretGrant,
)
from secrets_app.ownership.claims import role_key, service_account_key, wanted_for_binding
from secrets_app.rendering.names import default_role_name
from secrets_app.requests.states import OPEN_STATES

GUIDE_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r"
GUIDE_ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/C0EB4AEEDFD18CBBCBD0686222057E0A"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster
        django_get_or_create = ("name",)

    name = "janus-dev"
    environment = "dev"
    aws_account_id = "287796791794"
    region = "us-west-2"
    oidc_issuer = GUIDE_ISSUER
    required_approvals = 1


class AccessRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessRequest
        skip_postgeneration_save = True

    requester = factory.SubFactory(UserFactory)
    cluster = factory.SubFactory(ClusterFactory)
    service = factory.Sequence(lambda n: f"service-{n}")
    namespace = "deploy"
    workload_name = factory.SelfAttribute("service")
    containers = factory.LazyFunction(lambda: ["app"])
    service_account = factory.LazyAttribute(lambda r: f"{r.service}-secrets")
    justification = "Needs the database password."
    state = RequestState.PENDING
    submitted_at = factory.Faker("date_time_this_month", tzinfo=__import__("datetime").UTC)

    @factory.post_generation
    def claims(request, create, extracted, **kwargs):
        """An open grant holds its ServiceAccount and role, as one submitted
        through the workflow does (its files are claimed when it renders)."""
        if create and request.kind == "grant" and request.state in OPEN_STATES:
            role = request.role_name or default_role_name(
                request.cluster.name, request.namespace, request.service
            )
            _claim(
                request=request,
                service_account=service_account_key(
                    request.cluster_id, request.namespace, request.service_account
                ),
                role=role_key(request.cluster.aws_account_id, role),
            )


class SecretGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecretGrant

    request = factory.SubFactory(AccessRequestFactory)
    secret = GUIDE_ARN
    alias = "dcp-db-password"
    sync_secret_name = "dcp-db-password"
    sync_keys = factory.LazyFunction(
        lambda: [{"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}]
    )


class BindingFactory(factory.django.DjangoModelFactory):
    """A live portal binding; the names follow the service as the portal
    derives them. Unsaved rows for ``bulk_create``: ``BindingFactory.build()``."""

    class Meta:
        model = Binding
        skip_postgeneration_save = True

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "deploy"
    service = factory.Sequence(lambda n: f"service-{n}")
    service_account = factory.LazyAttribute(lambda b: f"{b.service}-secrets")
    secret_provider_class = factory.SelfAttribute("service_account")
    role_arn = factory.LazyAttribute(
        lambda b: f"arn:aws:iam::287796791794:role/{b.cluster.name}_{b.namespace}_{b.service}"
    )
    workload_name = factory.SelfAttribute("service")

    @factory.post_generation
    def claims(binding, create, extracted, **kwargs):
        """A live binding holds its ServiceAccount, role and files."""
        if create and binding.state != "revoked":
            Claim.objects.bulk_create(
                [
                    Claim(kind=w.kind, key=w.key, binding=binding)
                    for w in wanted_for_binding(binding)
                ],
                ignore_conflicts=True,
            )


def _claim(*, request=None, binding=None, **keys: str) -> None:
    # Like the backfill of migration 0007: the first holder keeps a key.
    Claim.objects.bulk_create(
        [Claim(kind=kind, key=key, request=request, binding=binding) for kind, key in keys.items()],
        ignore_conflicts=True,
    )


class BindingSecretFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BindingSecret

    binding = factory.SubFactory(BindingFactory)
    arn = GUIDE_ARN
    name = "dcp-db-password"
    alias = "dcp-db-password"


class TeamFactory(factory.django.DjangoModelFactory):
    """A team is a group."""

    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")


class NamespaceFactory(factory.django.DjangoModelFactory):
    """A namespace the portal knows, owned by ``team`` (as if its label said so)."""

    class Meta:
        model = Namespace
        django_get_or_create = ("cluster", "name")

    cluster = factory.SubFactory(ClusterFactory)
    name = "deploy"
    team = factory.SubFactory(TeamFactory)
    label_team = factory.LazyAttribute(lambda n: n.team.name if n.team else "")


def own_namespace(user, cluster, namespace: str, team: str | None = None) -> Namespace:
    """Make ``user`` a member of the team that owns ``cluster``/``namespace``
    (``team``: that team's name; default ``team-<namespace>``)."""
    group = TeamFactory(name=team or f"team-{namespace}")
    user.groups.add(group)
    if hasattr(user, "_portal_team_ids"):
        del user._portal_team_ids
    return NamespaceFactory(cluster=cluster, name=namespace, team=group)
