"""A loopback GitHub and a GitHub-backed cluster (``tests.support.github``);
the real Celery worker comes from tests/conftest.py."""

from tests.support.github import github, github_cluster

__all__ = ["github", "github_cluster"]
