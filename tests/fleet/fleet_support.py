"""Bindings made the way the portal makes them (a grant approved, its pull
requests opened and merged), and what a renderer change looks like from the
repositories: the files as an older renderer wrote them, and the record of
what the portal wrote then.

A renderer change is shown without touching the renderer: the repository
holds "what an older portal rendered" (today's render with its first line
changed) and the binding records that text's blob ids, exactly the state a
portal upgrade leaves behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from secrets_app.integrations.backends import backends_for
from secrets_app.integrations.localgit import LocalGitBackend, _fast_import_commit, _git
from secrets_app.integrations.repos import blob_id
from secrets_app.models import Binding, Cluster
from secrets_app.requests import provisioning
from tests.inventory.revocation_support import local_cluster
from tests.support.access_requests import approve, make_pending

NEIGHBOURS = {"infra": {"README.md": "# infra\n"}, "deploy": {"README.md": "# deploy\n"}}
REPOSITORIES = ("infra", "deploy")


def local_world(settings: Any, tmp_path: Path, name: str = "janus-local") -> Cluster:
    """A cluster whose repositories are local git repositories (a README)."""
    cluster = local_cluster(settings, tmp_path, NEIGHBOURS)
    if name != cluster.name:
        cluster.name = name
        cluster.save(update_fields=["name"])
    return cluster


def grant(cluster: Cluster, service: str, requester, approver, *, merge=None) -> Binding:
    """``service``'s binding for the guide's secret, through the workflow;
    ``merge(request)`` merges its pull requests (default: local git)."""
    request = make_pending(cluster, requester=requester, service=service)
    approve(request, approver)
    provisioning.open_pull_requests(request.pk)
    if merge is None:
        for pull in sorted(request.pull_requests.all(), key=lambda p: p.repository != "infra"):
            provisioning.merge_local_pull_request(pull, actor=approver)
    else:
        merge(request)
    return Binding.objects.get(request=request)


def older(text: str) -> str:
    """What an older renderer wrote for ``text``: another first line."""
    first, _, rest = text.partition("\n")
    return f"# rendered by an older portal\n{first}\n{rest}"


def commit_local(cluster: Cluster, repository: str, files: dict[str, str | None]) -> None:
    """Someone commits on main of a local repository (None deletes a file)."""
    path = Path(cluster.repository(repository))
    parent = _git(path, "rev-parse", "refs/heads/main").strip()
    written = {p: t for p, t in files.items() if t is not None}
    deleted = [p for p, t in files.items() if t is None]
    _fast_import_commit(
        path, "refs/heads/main", parent=parent, message="hand edit\n", files=written,
        deleted=deleted,
    )  # fmt: skip


def main_files(cluster: Cluster, repository: str, ref: str = "main") -> dict[str, str]:
    return LocalGitBackend(cluster.repository(repository)).read_files(ref)


def as_if_rendered_before(binding: Binding, *, push=None, record: bool = True) -> None:
    """The binding's files as an older portal wrote them: the repositories
    hold ``older(text)`` and (``record``) the binding says it wrote that.
    ``push(repository, files)`` commits on main (default: local git)."""
    push = push or (lambda repository, files: commit_local(binding.cluster, repository, files))
    hashes = {}
    for repository in REPOSITORIES:
        current = main_files_of(binding, repository)
        old = {p: older(current[p]) for p in binding.files[repository]}
        push(repository, old)
        hashes[repository] = {p: blob_id(t) for p, t in old.items()}
    binding.file_hashes = hashes if record else {}
    binding.save(update_fields=["file_hashes"])


def main_files_of(binding: Binding, repository: str) -> dict[str, str]:
    """The binding's files as its repository's base branch holds them."""
    backend = backends_for(binding.cluster)[repository]
    return backend.read_paths(binding.cluster.base_branch, binding.files[repository])
