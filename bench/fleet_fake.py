"""The Kubernetes objects of one seeded cluster, for the load benchmark's
background sweeps (bench/sweeper.py): what the fake API serves so that the
portal's real sweep finds the seeded bindings' ServiceAccounts, classes,
Deployments and pods.

Built from the sweep's own targets (``health.service.binding_targets``), so
every binding is found as the portal recorded it; each sweep draws the pods'
state anew (mostly mounted, a few pending, failing or half failing), so
statuses move between sweeps and every sweep writes what production's would.
The object shapes are ``fakes.cluster_gen``'s (the tests' generated
clusters), taken from its builders rather than copied.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fakes.cluster_gen import (
    CATALOGUE_ERRORS,
    ROLE_ANNOTATION,
    _deployment,
    _event,
    _pod,
    _pod_spec,
    _spc_pod_status,
    _synced_secret,
    kubelet_failed_mount,
    namespace,
)
from fakes.cluster_ready import system_objects
from secrets_app.health.types import BindingTarget

#: A fleet on an ordinary day: most mounts fine, a few in trouble.
STATES = (("mounted", 0.90), ("waiting", 0.04), ("failing", 0.04), ("half", 0.02))
PODS_PER_BINDING = 2
#: The provider's "secret not found" (catalogue 5): the commonest failure.
FAILURE = 5


def draw(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for state, share in STATES:
        acc += share
        if x < acc:
            return state
    return "mounted"


def cluster_objects(
    targets: Sequence[BindingTarget],
    labels: Mapping[str, str],
    rng: random.Random,
    team_label: str = "team",
    states: Iterator[str] | None = None,
) -> list[dict[str, Any]]:
    """Everything the sweep lists in a cluster holding ``targets``: the
    namespaces (``labels``: namespace -> its team label, as seeded), per
    binding a ServiceAccount with its role, the class, a Deployment and its
    pods in a freshly drawn state (or the next of ``states``: ``STATES``'
    names), and the driver's system objects."""
    spaces = sorted({t.namespace for t in targets} | set(labels))
    objects = [namespace(ns, {team_label: labels[ns]} if labels.get(ns) else None) for ns in spaces]
    objects += system_objects()
    serial = 0
    for t in targets:
        ns, app, spc = t.namespace, t.workload_name, t.secret_provider_class
        objects.append(
            {
                "kind": "ServiceAccount",
                "metadata": {
                    "name": t.service_account,
                    "namespace": ns,
                    "annotations": {ROLE_ANNOTATION: t.role_arn} if t.role_arn else {},
                },
            }
        )
        objects.append(_class(t))
        spec = {**_pod_spec(app, spc), "serviceAccountName": t.service_account}
        objects.append(_deployment(ns, app, spec))
        state = next(states) if states is not None else draw(rng)
        pods = {
            "mounted": ["mounted"] * PODS_PER_BINDING,
            "waiting": ["waiting"] * PODS_PER_BINDING,
            "failing": ["failing"] * PODS_PER_BINDING,
            "half": ["mounted", "failing"],
        }[state]
        if "mounted" in pods:
            objects += [_synced_secret(ns, name, spc) for name in t.synced_secret_names]
        versions = [
            {"id": s.arn, "version": "a1b2c3d4-0000-4000-8000-000000000001"} for s in t.secrets
        ]
        rs_hash = f"{t.id:08x}"[-9:]
        for k, pod_state in enumerate(pods):
            serial += 1
            uid = f"{serial:08x}-0000-4000-8000-{t.id:012x}"
            pod = f"{app}-{rs_hash}-{k:05x}"
            phase = "Pending" if pod_state in ("waiting", "failing") else "Running"
            objects.append(_pod(ns, pod, uid, app, rs_hash, spec, phase))
            if pod_state == "mounted":
                objects.append(_spc_pod_status(ns, pod, uid, spc, versions, k))
            elif pod_state == "failing":
                arn = t.secrets[0].arn if t.secrets else ""
                text = CATALOGUE_ERRORS[FAILURE].format(arn=arn)
                message = kubelet_failed_mount(ns, pod, text, FAILURE)
                objects.append(_event(ns, pod, uid, "FailedMount", message, k))
    return objects


def _class(t: BindingTarget) -> dict[str, Any]:
    """The SecretProviderClass the portal wrote for ``t``: its secrets, and
    the synced Secrets it asks the driver for."""
    region = t.secrets[0].arn.split(":")[3] if t.secrets else "us-west-2"
    listed = "".join(f'- objectName: "{s.arn}"\n  objectAlias: "{s.alias}"\n' for s in t.secrets)
    spec: dict[str, Any] = {"provider": "aws", "parameters": {"region": region, "objects": listed}}
    if t.synced_secret_names:
        first = t.secrets[0].alias if t.secrets else "db"
        spec["secretObjects"] = [
            {"secretName": name, "type": "Opaque", "data": [{"objectName": first, "key": "value"}]}
            for name in t.synced_secret_names
        ]
    return {
        "kind": "SecretProviderClass",
        "metadata": {"name": t.secret_provider_class, "namespace": t.namespace},
        "spec": spec,
    }
