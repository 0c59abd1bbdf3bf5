"""Helpers of the mount-health portal tests: bindings made from the targets
of a generated cluster, and the cluster served by the fake API."""

from __future__ import annotations

from fakes.cluster_gen import GeneratedCluster, generate_cluster
from fakes.kube_api import FakeKubeApi
from secrets_app.health.types import BindingTarget
from secrets_app.models import Binding, BindingSecret, BindingSource, Cluster
from tests.factories import BindingFactory, BindingSecretFactory


def make_bindings(cluster: Cluster, targets: list[BindingTarget]) -> dict[int | str, Binding]:
    """Binding + BindingSecret rows for generated targets: target id -> Binding."""
    rows = Binding.objects.bulk_create(
        [
            BindingFactory.build(
                cluster=cluster,
                namespace=t.namespace,
                service=t.workload_name,
                service_account=t.service_account,
                secret_provider_class=t.secret_provider_class,
                role_arn=t.role_arn,
                workload_kind=t.workload_kind,
                workload_name=t.workload_name,
                synced_secret_names=list(t.synced_secret_names),
                source=BindingSource.IMPORTED,
            )
            for t in targets
        ]
    )
    BindingSecret.objects.bulk_create(
        [
            BindingSecretFactory.build(
                binding=b, arn=arn, name=arn.split(":secret:")[1], alias="db-password"
            )
            for t, b in zip(targets, rows, strict=True)
            for arn in t.secret_ids
        ]
    )
    return {t.id: b for t, b in zip(targets, rows, strict=True)}


def load_cluster(fake: FakeKubeApi, cluster: Cluster, **gen) -> tuple[GeneratedCluster, dict]:
    """Generate a cluster, serve it from ``fake`` and create matching bindings."""
    generated = generate_cluster(**gen)
    fake.add_many(generated.objects)
    return generated, make_bindings(cluster, generated.targets)
