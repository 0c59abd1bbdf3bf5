"""The inventory's fixtures (``tests.support``): the loopback GitHub for
revocations and the fake Kubernetes API for discovery and drift (moto and
the real Celery worker come from tests/conftest.py)."""

from tests.support.github import github, github_cluster
from tests.support.kube import fake

__all__ = ["fake", "github", "github_cluster"]
