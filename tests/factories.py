import factory
from django.contrib.auth import get_user_model

from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    Cluster,
    RequestState,
    SecretGrant,
)

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

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "deploy"
    service = factory.Sequence(lambda n: f"service-{n}")
    service_account = factory.LazyAttribute(lambda b: f"{b.service}-secrets")
    secret_provider_class = factory.SelfAttribute("service_account")
    role_arn = factory.LazyAttribute(
        lambda b: f"arn:aws:iam::287796791794:role/{b.cluster.name}_{b.namespace}_{b.service}"
    )
    workload_name = factory.SelfAttribute("service")


class BindingSecretFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BindingSecret

    binding = factory.SubFactory(BindingFactory)
    arn = GUIDE_ARN
    name = "dcp-db-password"
    alias = "dcp-db-password"
