"""The fleet upgrades' fixtures: the loopback GitHub (``tests.support``),
and ``world``, janus-local with its repositories in local git."""

import pytest

from tests.fleet.fleet_support import local_world
from tests.support.github import github, github_cluster

__all__ = ["github", "github_cluster"]


@pytest.fixture
def world(settings, tmp_path):
    return local_world(settings, tmp_path)
