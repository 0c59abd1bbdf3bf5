"""The repositories as a fleet check reads them: each repository's base
branch listed once (its tree: paths and blob ids, no content), however many
clusters and bindings share it; contents read only for the files shown as
diffs, once per repository."""

from __future__ import annotations

from collections.abc import Iterable

from secrets_app.integrations.backends import REPOSITORIES, backends_for, repository_name
from secrets_app.integrations.errors import IntegrationError
from secrets_app.integrations.repos import RepoBackend
from secrets_app.models import Cluster

#: (backend kind, repository name, base branch): one tree per key.
Key = tuple[str, str, str]


class Unreadable(Exception):
    """A repository that could not be read; the bindings in it are not checked."""


class FleetRepos:
    """Backends and trees, cached for one check."""

    def __init__(self) -> None:
        self._backends: dict[int, dict[str, RepoBackend]] = {}
        self._trees: dict[Key, dict[str, str]] = {}
        self._errors: dict[Key, str] = {}

    @staticmethod
    def key(cluster: Cluster, repository: str) -> Key:
        return (cluster.repo_backend, repository_name(cluster, repository), cluster.base_branch)

    def backend(self, cluster: Cluster, repository: str) -> RepoBackend:
        if cluster.pk not in self._backends:
            self._backends[cluster.pk] = backends_for(cluster)
        return self._backends[cluster.pk][repository]

    def tree(self, cluster: Cluster, repository: str) -> dict[str, str]:
        """``{path: blob id}`` on the cluster's base branch; raises
        ``Unreadable`` (the same reason for every binding in it)."""
        key = self.key(cluster, repository)
        if key in self._errors:
            raise Unreadable(self._errors[key])
        if key not in self._trees:
            try:
                self._trees[key] = self.backend(cluster, repository).read_tree(key[2])
            except IntegrationError as error:
                self._errors[key] = f"{repository} repository {key[1]}: {error}"
                raise Unreadable(self._errors[key]) from None
        return self._trees[key]

    @property
    def errors(self) -> dict[Key, str]:
        return dict(self._errors)

    def read(self, wanted: Iterable[tuple[Cluster, str, str]]) -> dict[tuple[Key, str], str]:
        """The text of each (cluster, repository, path) on its base branch,
        by (repository key, path): one read per repository (locally one
        ``cat-file``, on GitHub its archive). Missing files are left out."""
        by_key: dict[Key, tuple[Cluster, str, set[str]]] = {}
        for cluster, repository, path in wanted:
            key = self.key(cluster, repository)
            by_key.setdefault(key, (cluster, repository, set()))[2].add(path)
        found: dict[tuple[Key, str], str] = {}
        for key, (cluster, repository, paths) in by_key.items():
            texts = self.backend(cluster, repository).read_paths(key[2], paths)
            found.update({(key, path): text for path, text in texts.items()})
        return found


__all__ = ["REPOSITORIES", "FleetRepos", "Key", "Unreadable"]
