"""Fixtures for the repository backends: a loopback GitHub fake and local
git repositories. Pure Python: no Django, no database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes.github_api import FakeGitHub
from secrets_app.integrations.github import GitHubAuth, GitHubBackend
from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from tests.repos.repos_support import BASE_FILES, OWNER, TOKEN


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        server.create_repo(OWNER, "infra", files=BASE_FILES)
        server.create_repo(OWNER, "deploy", files={"README.md": "# deploy\n"})
        yield server


@pytest.fixture
def github(fake: FakeGitHub) -> Callable[..., GitHubBackend]:
    def make(repo: str = "infra", *, token: str = TOKEN, timeout: int = 5) -> GitHubBackend:
        auth = GitHubAuth(token=token)
        return GitHubBackend(f"{OWNER}/{repo}", auth, base_url=fake.base_url, timeout=timeout)

    return make


@pytest.fixture
def local_repo(tmp_path: Path) -> LocalGitBackend:
    path = init_demo_repository(tmp_path / "infra.git", files=BASE_FILES)
    return LocalGitBackend(path)
