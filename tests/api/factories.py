"""Bindings, their secrets and health snapshots for the API's read tests."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from secrets_app.models import Binding, BindingSecret, HealthSnapshot
from tests.factories import GUIDE_ARN, ClusterFactory


class BindingFactory(factory.django.DjangoModelFactory):
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


class HealthSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthSnapshot

    binding = factory.SubFactory(BindingFactory)
    status = "healthy"
    pods_expected = 2
    pods_mounted = 2
    taken_at = factory.LazyFunction(timezone.now)


def binding_with_health(*, statuses=("healthy",), **kwargs) -> Binding:
    """A binding with one secret and one snapshot per status, oldest first."""
    binding = BindingFactory(health_status=statuses[-1], **kwargs)
    BindingSecretFactory(binding=binding)
    start = timezone.now() - datetime.timedelta(minutes=len(statuses))
    for i, status in enumerate(statuses):
        HealthSnapshotFactory(
            binding=binding, status=status, taken_at=start + datetime.timedelta(minutes=i)
        )
    return binding
