"""A loopback GitHub, a GitHub-backed cluster and a real Celery worker on
Redis (``tests.support``)."""

from tests.support.celery_worker import worker
from tests.support.github import github, github_cluster

__all__ = ["github", "github_cluster", "worker"]
