"""The mount-health portal's fixtures, shared by tests/health_portal and the
fault tests: a cluster served by the fake Kubernetes API
(``tests.support.kube.fake``), an engineer's logged-in client, and the Redis
the sweep tasks use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client

from fakes.kube_api import FakeKubeApi
from secrets_app.models import Cluster
from tests.factories import ClusterFactory, UserFactory
from tests.support.celery_worker import emptied_broker
from tests.support.clients import client_for

# Queries a successful sweep spends recording namespaces, after storing health:
# savepoint, their rows (locked), the groups their team labels name, one
# insert (or update), release. (No label: no group query, 4.)
OWNERSHIP_QUERIES = 5


@pytest.fixture
def kube_cluster(db: Any, fake: FakeKubeApi) -> Cluster:
    return ClusterFactory(name="kind-health", kube_api_url=fake.url)


@pytest.fixture
def engineer(db: Any) -> Any:
    return UserFactory(username="sre")


@pytest.fixture
def web(engineer: Any) -> Client:
    return client_for(engineer)


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The Redis Celery uses, emptied, and the sweep's locks deleted after."""
    with emptied_broker("portal:lock:health-sweep:*") as conn:
        yield conn
