"""Health snapshots, and bindings with a history of them, for the API's read tests."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from secrets_app.models import Binding, HealthSnapshot
from tests.factories import BindingFactory, BindingSecretFactory


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
