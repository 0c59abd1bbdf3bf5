"""Fixtures for the Django side of mount health: a loopback fake Kubernetes API,
a cluster pointing at it, and Binding rows made from generated targets."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.test import Client

from fakes.kube_api import FakeKubeApi
from secrets_app.models import Cluster
from tests.factories import ClusterFactory, UserFactory


@pytest.fixture
def fake():
    server = FakeKubeApi().start()
    yield server
    server.stop()


@pytest.fixture
def kube_cluster(db, fake) -> Cluster:
    return ClusterFactory(name="kind-health", kube_api_url=fake.url)


@pytest.fixture
def engineer(db):
    return UserFactory(username="sre")


@pytest.fixture
def web(engineer) -> Client:
    client = Client()
    client.force_login(engineer)
    return client


@pytest.fixture
def broker():
    """The Redis database Celery uses in these tests, emptied before and after
    each test (other tests may leave messages no worker consumed)."""
    conn = redis.Redis.from_url(settings.REDIS_URL)
    conn.delete("celery")
    yield conn
    conn.delete("celery")
    for key in conn.scan_iter("portal:lock:health-sweep:*"):
        conn.delete(key)
