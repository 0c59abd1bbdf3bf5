"""A loopback Kubernetes API (``fakes.kube_api.FakeKubeApi``) and what a
health sweep of it costs in requests."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest

from fakes.kube_api import FakeKubeApi
from secrets_app.health.collector import DEFAULT_EVENT_REASONS, MANAGED_SELECTOR


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
    (all of them, for their team label: one request per 500 namespaces)."""
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
    ]
    return sum(max(1, math.ceil(size / page_size)) for size in sizes)
