"""What a change request's pull requests do to the files in the
repositories: a unified diff of each file against its base branch now.

Read with the backend's ``read_text_files`` (two git processes locally, one
tarball per repository on GitHub): only when a person asks, never in a
loop."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from secrets_app.integrations.backends import REPOSITORIES, backends_for
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import AccessRequest, Cluster
from secrets_app.rendering import SpecInvalid, render_binding
from secrets_app.requests.preview import REPOSITORY_TITLES
from secrets_app.requests.specs import spec_for_request


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: str  # "added", "modified", "deleted", "unchanged"
    lines: list[tuple[str, str]]  # (kind: "add", "del", "hunk", "head", "", the line)


@dataclass(frozen=True)
class ChangeDiff:
    repositories: list[tuple[str, list[FileDiff]]]  # (title, files), infra first
    base: str = ""
    problem: str = ""  # why there is no diff (the repositories could not be read)

    @property
    def changed(self) -> int:
        return sum(1 for _, files in self.repositories for f in files if f.status != "unchanged")


def _kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "head"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "")


def file_diff(path: str, old: str | None, new: str | None) -> FileDiff:
    if old == new:
        return FileDiff(path, "unchanged", [])
    status = "added" if old is None else "deleted" if new is None else "modified"
    lines = difflib.unified_diff(
        (old or "").splitlines(),
        (new or "").splitlines(),
        fromfile="/dev/null" if old is None else f"a/{path}",
        tofile="/dev/null" if new is None else f"b/{path}",
        lineterm="",
    )
    return FileDiff(path, status, [(_kind(line), line) for line in lines])


def change_diff(
    cluster: Cluster,
    rendered: Mapping[str, Mapping[str, str]],
    deletes: Mapping[str, list[str]],
) -> ChangeDiff:
    """``rendered`` files written and ``deletes`` paths deleted, per
    repository, against the cluster's base branch."""
    base = cluster.base_branch
    repositories = []
    try:
        backends = backends_for(cluster)
        for repo in REPOSITORIES:
            written = dict(rendered.get(repo) or {})
            gone = sorted(set(deletes.get(repo) or []) - set(written))
            paths = sorted({*written, *gone})
            if not paths:
                continue
            # Every file the change touches, however it is named; exact paths
            # are picked out below.
            found = backends[repo].read_text_files(base, suffixes=tuple({p.lower() for p in paths}))
            files = [file_diff(p, found.get(p), written.get(p)) for p in paths]
            repositories.append((REPOSITORY_TITLES.get(repo, repo), files))
    except IntegrationError as error:
        return ChangeDiff([], base, f"The portal could not read the repositories: {error}")
    return ChangeDiff(repositories, base)


def diff_for_request(request: AccessRequest) -> ChangeDiff:
    """A saved change request's files against the repositories now."""
    try:
        rendered = render_binding(spec_for_request(request)).files
    except SpecInvalid as invalid:
        problems = "; ".join(str(p) for p in invalid.problems)
        return ChangeDiff(
            [], request.cluster.base_branch, f"The files cannot be rendered: {problems}"
        )
    return change_diff(request.cluster, rendered, request.deletes or {})
