"""A loopback GitHub and a GitHub-backed cluster (``tests.support.github``)
for the small tests of what the simulation found."""

from tests.support.github import github, github_cluster

__all__ = ["github", "github_cluster"]
