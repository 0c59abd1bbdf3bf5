"""The fleet upgrades' fixtures (``tests.support``): the loopback GitHub."""

from tests.support.github import github, github_cluster

__all__ = ["github", "github_cluster"]
