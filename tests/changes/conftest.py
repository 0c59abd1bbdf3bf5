"""The change requests' fixtures (``tests.support``): the loopback GitHub
(moto and the real Celery worker come from tests/conftest.py)."""

from tests.support.github import github, github_cluster

__all__ = ["github", "github_cluster"]
