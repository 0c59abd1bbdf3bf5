"""Fixtures for the pure-Python mount-health tests: a fake API and a real client."""

from __future__ import annotations

import pytest

from fakes.kube_api import FakeKubeApi
from secrets_app.integrations.kube import KubeClient, Timeouts, connect_host


@pytest.fixture
def fake():
    server = FakeKubeApi().start()
    yield server
    server.stop()


@pytest.fixture
def client(fake) -> KubeClient:
    kube = connect_host(fake.url, timeouts=Timeouts(connect=0.5, read=1.0), backoff=0.01)
    yield kube
    kube.close()
