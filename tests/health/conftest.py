"""Fixtures for the mount-health tests without the portal: the fake
Kubernetes API (``tests.support.kube``) and a real client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.kube_api import FakeKubeApi
from secrets_app.integrations.kube import KubeClient, Timeouts, connect_host
from tests.support.kube import fake

__all__ = ["fake"]


@pytest.fixture
def client(fake: FakeKubeApi) -> Iterator[KubeClient]:
    kube = connect_host(fake.url, timeouts=Timeouts(connect=0.5, read=1.0), backoff=0.01)
    yield kube
    kube.close()
