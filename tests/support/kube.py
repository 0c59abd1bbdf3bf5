"""A loopback Kubernetes API (``fakes.kube_api.FakeKubeApi``) and what a
health sweep of it costs in requests."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest

from fakes.kube_api import FakeKubeApi
from secrets_app.health.collector import (
    AGENT_NAMESPACE,
    DEFAULT_DRIVER_NAMESPACE,
    DEFAULT_EVENT_REASONS,
    DEFAULT_RELOADER_SELECTOR,
    MANAGED_SELECTOR,
)

#: The LISTs cluster readiness adds to every sweep, whatever the bindings:
#: DaemonSets in the driver's namespace (kube-system, also the Pod Identity
#: agent's), CSIDrivers, ClusterRoles, Reloader Deployments. Each is one
#: page in any real cluster.
READINESS_KINDS = 4


@pytest.fixture
def fake() -> Iterator[FakeKubeApi]:
    server = FakeKubeApi().start()
    yield server
    server.stop()


def expected_requests(objects: list[dict], page_size: int = 500) -> int:
    """The LIST requests a sweep of ``objects`` needs: over the kinds it
    reads, ceil(n / page_size), an empty kind costing one request. The kinds:
    pods, SecretProviderClassPodStatuses, SecretProviderClasses,
    ServiceAccounts, events once per reason, managed Secrets, and namespaces
    (all of them, for their team label: one request per 500 namespaces);
    then the ``READINESS_KINDS`` lists of cluster readiness."""
    n = Counter(o["kind"] for o in objects)
    events = Counter(o["reason"] for o in objects if o["kind"] == "Event")
    label = MANAGED_SELECTOR.split("=")[0]
    synced = sum(
        1
        for o in objects
        if o["kind"] == "Secret" and (o["metadata"].get("labels") or {}).get(label) == "true"
    )
    sizes = [
        n["Pod"],
        n["SecretProviderClassPodStatus"],
        n["SecretProviderClass"],
        n["ServiceAccount"],
        *(events[r] for r in DEFAULT_EVENT_REASONS),
        synced,
        n["Namespace"],
        *_readiness_sizes(objects),
    ]
    return sum(max(1, math.ceil(size / page_size)) for size in sizes)


def _readiness_sizes(objects: list[dict]) -> list[int]:
    key, value = DEFAULT_RELOADER_SELECTOR.split("=")
    system = dict.fromkeys((DEFAULT_DRIVER_NAMESPACE, AGENT_NAMESPACE))
    daemonsets = [
        sum(1 for o in objects if o["kind"] == "DaemonSet" and o["metadata"]["namespace"] == ns)
        for ns in system
    ]
    reloaders = sum(
        1
        for o in objects
        if o["kind"] == "Deployment" and (o["metadata"].get("labels") or {}).get(key) == value
    )
    n = Counter(o["kind"] for o in objects)
    sizes = [*daemonsets, n["CSIDriver"], n["ClusterRole"], reloaders]
    assert len(sizes) == READINESS_KINDS
    return sizes
