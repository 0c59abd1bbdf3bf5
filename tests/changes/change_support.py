"""A live portal binding made the way the portal makes one (a grant
approved, its pull requests opened in local git repositories and merged),
and the change requests the tests file for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from secrets_app.integrations.localgit import _git
from secrets_app.models import AccessRequest, Binding, Cluster
from secrets_app.requests import changes, provisioning
from tests.factories import GUIDE_ARN
from tests.inventory.revocation_support import local_cluster, local_files
from tests.support.access_requests import approve, make_pending

API_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:api-key-AbC123"
#: The guide's secret as the grant filed it (``SecretGrantFactory``).
GUIDE_SECRET = {
    "secret": GUIDE_ARN,
    "alias": "dcp-db-password",
    "sync_secret_name": "dcp-db-password",
    "sync_keys": [{"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}],
}
API_SECRET = {"secret": API_ARN, "alias": "api-key"}
NEIGHBOURS = {"infra": {"README.md": "# infra\n"}, "deploy": {"README.md": "# deploy\n"}}

__all__ = ["local_files"]


def local_world(settings: Any, tmp_path: Path) -> Cluster:
    """janus-local, its repositories in local git holding only a README."""
    return local_cluster(settings, tmp_path, NEIGHBOURS)


def merge_locally(request: AccessRequest, actor, *, first: str = "infra") -> None:
    """The demo's merge button, ``first`` repository first."""
    pulls = sorted(request.pull_requests.all(), key=lambda p: p.repository != first)
    for pull in pulls:
        provisioning.merge_local_pull_request(pull, actor=actor)


def granted(cluster: Cluster, requester, approver) -> Binding:
    """data-access-service's binding for the guide's secret, through the
    workflow and local git."""
    grant = make_pending(cluster, requester=requester)
    approve(grant, approver)
    provisioning.open_pull_requests(grant.pk)
    merge_locally(grant, approver)
    return Binding.objects.get(request=grant)


def ask_change(binding: Binding, asker, *secrets: dict, **fields: Any) -> AccessRequest:
    """File a change of ``binding`` with ``secrets`` (default: the guide's
    secret and the API key) as the page or a script would."""
    data = {
        "justification": "Reads the API key too.",
        "secrets": list(secrets) or [GUIDE_SECRET, API_SECRET],
        **fields,
    }
    with transaction.atomic():
        return changes.request_change(binding_id=binding.pk, requester=asker, data=data).request


def carried_out(change: AccessRequest, approver) -> None:
    """Approved, its pull requests opened and merged (infra first)."""
    approve(change, approver)
    provisioning.open_pull_requests(change.pk)
    merge_locally(change, approver)


def file_log(cluster: Cluster, repository: str, path: str) -> list[tuple[str, str]]:
    """(status, subject) of each commit on main that touched ``path``, newest
    first, merges left out: ``A`` when it added the file, ``M`` when it
    modified it, ``D`` when it deleted it."""
    repo = cluster.repository(repository)
    out = _git(
        Path(repo), "log", "--format=%x00%s", "--name-status", "--no-merges", "main", "--", path
    )
    entries = []
    for chunk in out.split("\x00")[1:]:
        subject, _, rest = chunk.partition("\n")
        status = rest.strip().split("\t", 1)[0]
        entries.append((status, subject))
    return entries
