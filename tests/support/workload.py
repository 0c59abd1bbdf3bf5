"""A binding's objects as its cluster holds them once the deploy pull request
is applied: the ServiceAccount (with the role annotation), the
SecretProviderClass, the Deployment's pods mounting it and their mount
statuses. Plain dicts for ``FakeKubeApi.add_many``; ``take_away`` removes
them kind by kind, as the cluster does when a revocation is applied."""

from __future__ import annotations

from typing import Any

from fakes.kube_api import FakeKubeApi
from fakes.legacy_objects import deployment_pods, secret_provider_class, service_account
from secrets_app.models import Binding


def deployed(binding: Binding, *, replicas: int = 2) -> list[dict[str, Any]]:
    """Everything the sweep needs to find ``binding`` healthy."""
    ns, sa, spc = binding.namespace, binding.service_account, binding.secret_provider_class
    secrets = list(binding.secrets.all())
    pods = deployment_pods(
        ns, binding.workload_name, service_account_name=sa, classes=[spc], replicas=replicas
    )
    mounts = [
        {
            "kind": "SecretProviderClassPodStatus",
            "metadata": {"name": f"{p['metadata']['name']}-{ns}-{spc}", "namespace": ns},
            "status": {
                "mounted": True,
                "podName": p["metadata"]["name"],
                "secretProviderClassName": spc,
                "objects": [{"id": s.arn, "version": "v1"} for s in secrets],
            },
        }
        for p in pods
    ]
    return [
        service_account(ns, sa, role=binding.role_arn or None),
        secret_provider_class(
            ns, spc, objects=[{"objectName": s.arn, "objectAlias": s.alias} for s in secrets]
        ),
        *pods,
        *mounts,
    ]


def take_away(fake: FakeKubeApi, objects: list[dict[str, Any]], *kinds: str) -> None:
    """Remove the objects of ``kinds`` from the fake cluster."""
    for obj in objects:
        if obj["kind"] in kinds:
            meta = obj["metadata"]
            fake.remove(obj["kind"], meta["namespace"], meta["name"])
