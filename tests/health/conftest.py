"""Fixtures for the pure-Python mount-health tests: a fake API and a real client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Under `-p no:django` nothing puts the repository root on sys.path.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from fakes.kube_api import FakeKubeApi  # noqa: E402
from secrets_app.integrations.kube import KubeClient, Timeouts, connect_host  # noqa: E402


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
