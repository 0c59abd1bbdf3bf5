"""Fault-injection fixtures: a private Redis a test may stop and restart, and
real portal processes (gunicorn, Celery workers) started against it and the
test database, so a fault can hit them without touching the machine's shared
Redis or monkey-patching the portal (``harness.py``); and the fixtures the
faults share with other folders: the loopback GitHub, the fake Kubernetes
API with its cluster (moto and the in-process worker come from
tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import PortalProcesses, PrivateRedis, test_database_url
from tests.support.github import DEPLOY, INFRA, TOKEN, github, github_cluster
from tests.support.health import broker, engineer, kube_cluster, web
from tests.support.kube import fake
from tests.support.paths import ROOT

__all__ = ["broker", "engineer", "fake", "github", "github_cluster", "kube_cluster", "web"]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def portal_env(transactional_db, private_redis: PrivateRedis) -> dict[str, str]:
    """The environment of the portal processes; tests add GitHub's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.faults.portal_settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=test_database_url(),
        REDIS_URL=private_redis.url,
        PORTAL_TASK_RETRY_BASE="0.05",
        PORTAL_TASK_RETRY_CAP="0.2",
        PORTAL_TASK_MAX_ATTEMPTS="4",
        LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture
def portal(portal_env: dict[str, str], tmp_path: Path) -> Iterator[PortalProcesses]:
    processes = PortalProcesses(portal_env, tmp_path)
    yield processes
    processes.stop_all()


@pytest.fixture
def github_env(github, portal_env: dict[str, str]) -> dict[str, str]:
    """Point the portal processes at the test's FakeGitHub (set before they start)."""
    portal_env.update(
        GITHUB_API_URL=github.base_url,
        GITHUB_TOKEN=TOKEN,
        PORTAL_INFRA_REPO=INFRA,
        PORTAL_DEPLOY_REPO=DEPLOY,
    )
    return portal_env
