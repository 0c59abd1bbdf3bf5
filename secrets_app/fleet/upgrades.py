"""Opening fleet upgrades: for each cluster and repository, one pull request
that rewrites the files of every upgradable binding of the cluster (and
deletes those its render no longer has), listing the bindings.

A second run while one is open rewrites its branch with what is upgradable
then (the same pull request, the same ``Upgrade``), so running it again is
safe. Before a file is written at a path a binding did not have, the
binding takes that path's claim; a binding whose new path belongs to
another binding or request is left out, with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from secrets_app.events.audit import audit_record
from secrets_app.fleet import tracking
from secrets_app.fleet.check import BindingCheck, FleetReport
from secrets_app.integrations.backends import REPOSITORIES, backends_for, repository_name
from secrets_app.integrations.errors import IntegrationError
from secrets_app.integrations.repos import PullRequestRef, RepoBackend, RetryPolicy
from secrets_app.models import Cluster, PullRequestState, Upgrade, UpgradeBinding
from secrets_app.ownership import claims
from secrets_app.requests.pr_text import code_span

log = logging.getLogger(__name__)

#: Bindings a pull request body lists (GitHub refuses bodies over 65,536
#: characters; the portal's page lists them all).
MAX_LISTED = 300
WHAT = {"infra": "IAM roles", "deploy": "secrets mounts"}


@dataclass
class Opened:
    """One repository of one cluster: the upgrade (None when nothing was
    opened), the bindings it carries, those left out and why."""

    cluster: Cluster
    repository: str
    upgrade: Upgrade | None = None
    bindings: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class _Entry:
    check: BindingCheck
    writes: dict[str, str]
    deletes: list[str]
    overwrites: list[str]


def upgrades_open(
    report: FleetReport,
    *,
    actor=None,
    force: bool = False,
    policy: RetryPolicy | None = None,
) -> list[Opened]:
    """Open (or bring up to date) the upgrade pull requests of every cluster
    with upgradable bindings in ``report``. ``force``: hand-edited files and
    files of unknown origin are overwritten too. Retryable errors are
    retried per ``policy``; a repository that fails is reported, the others
    go on."""
    opened = []
    for cluster, checks in report.by_cluster().items():
        eligible = [c for c in checks if c.upgradable(force=force)]
        if not eligible:
            continue
        try:
            backends = backends_for(cluster)
        except IntegrationError as error:
            opened += [Opened(cluster, r, error=str(error)) for r in REPOSITORIES]
            continue
        for repository in REPOSITORIES:
            result = _open_one(
                cluster, repository, eligible, backends[repository], actor, force, policy
            )
            if result is not None:
                opened.append(result)
    return opened


def _entries(checks: Sequence[BindingCheck], repository: str, force: bool) -> list[_Entry]:
    entries = []
    for check in checks:
        writes, deletes, overwrites = check.changes(repository, force=force)
        if writes or deletes:
            entries.append(_Entry(check, writes, deletes, overwrites))
    return entries


def _open_one(
    cluster: Cluster,
    repository: str,
    checks: Sequence[BindingCheck],
    backend: RepoBackend,
    actor,
    force: bool,
    policy: RetryPolicy | None,
) -> Opened | None:
    entries = _entries(checks, repository, force)
    if not entries:
        return None
    result = Opened(cluster, repository)
    with transaction.atomic():
        upgrade = _open_row(cluster, repository, actor, force)
        new_paths = {
            e.check.binding: [
                p
                for p in e.writes
                if p not in ((e.check.binding.files or {}).get(repository) or [])
            ]
            for e in entries
        }
        result.refused = claims.take_paths(
            cluster, repository, {b: paths for b, paths in new_paths.items() if paths}
        )
        kept = [e for e in entries if e.check.binding.pk not in result.refused]
        if not kept:
            if upgrade.number is None:
                upgrade.delete()
            return result
        # The branch is rewritten with exactly these bindings.
        before = _signature(
            upgrade.entries.values_list("binding_id", "writes", "deletes", "overwrites")
        )
        listed_again = before != _signature(
            (e.check.binding.pk, sorted(e.writes), e.deletes, e.overwrites) for e in kept
        )
        upgrade.entries.all().delete()
        UpgradeBinding.objects.bulk_create(
            [
                UpgradeBinding(
                    upgrade=upgrade,
                    binding=e.check.binding,
                    request_id=e.check.request_id,
                    files=e.check.rendered(repository),
                    writes=sorted(e.writes),
                    deletes=e.deletes,
                    overwrites=e.overwrites,
                )
                for e in kept
            ],
            batch_size=500,
        )
        audit_record(
            actor=actor,
            action="upgrade.requested",
            obj=upgrade,
            after={
                "bindings": len(kept),
                "refused": len(result.refused),
                "forced": force,
                "overwrites": sum(len(e.overwrites) for e in kept),
            },
        )
    result.upgrade, result.bindings = upgrade, [e.check.binding.pk for e in kept]
    files = {path: text for e in kept for path, text in e.writes.items()}
    delete = sorted({p for e in kept for p in e.deletes} - set(files))
    try:

        def ensure() -> PullRequestRef:
            return backend.ensure_pull_request(
                branch=upgrade.branch,
                base=cluster.base_branch,
                files=files,
                delete=delete,
                title=title(upgrade, len(kept)),
                body=body(upgrade, kept),
            )

        retrying = policy or RetryPolicy(max_attempts=0)
        ref = retrying.call(ensure)
        if not ref.created and listed_again:
            # An open pull request keeps its body: this one lists its bindings.
            retrying.call(lambda: backend.update_pull_request_body(ref.number, body(upgrade, kept)))
    except IntegrationError as error:
        log.warning("upgrade %s of %s: %s", repository, cluster.name, error)
        result.error = str(error)
        return result
    result.upgrade = tracking.upgrade_record_pull(upgrade_id=upgrade.pk, ref=ref)
    return result


def _signature(rows) -> list:
    return sorted((b, list(w), list(d), list(o)) for b, w, d, o in rows)


def _open_row(cluster: Cluster, repository: str, actor, force: bool) -> Upgrade:
    """The open upgrade of this cluster and repository (locked), or a new one."""
    upgrade = (
        Upgrade.objects.select_for_update()
        .filter(cluster=cluster, repository=repository, state=PullRequestState.OPEN)
        .first()
    )
    if upgrade is None:
        upgrade = Upgrade.objects.create(
            cluster=cluster,
            repository=repository,
            repo_name=repository_name(cluster, repository),
            branch="",
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            forced=force,
        )
        upgrade.branch = f"portal/upgrade-{cluster.name}-{upgrade.pk}"
        upgrade.save(update_fields=["branch"])
    elif force and not upgrade.forced:
        upgrade.forced = True
        upgrade.save(update_fields=["forced", "updated_at"])
    return upgrade


def title(upgrade: Upgrade, count: int) -> str:
    noun = "binding" if count == 1 else "bindings"
    return (
        f"Upgrade {count} {noun} in {upgrade.cluster.name} to the portal's current "
        f"{WHAT[upgrade.repository]} [portal upgrade #{upgrade.pk}]"
    )


#: As for a grant: roles and policies change before the workloads that use them.
MERGE_ORDER = {
    "infra": "Merge this pull request first, before the deploy repository's upgrade of this "
    "cluster: the roles and policies must be in place before the workloads use them.",
    "deploy": "Merge the infra repository's upgrade of this cluster first (the portal's "
    "page links it): the roles and policies must be in place before the workloads use them.",
}


def body(upgrade: Upgrade, entries: Sequence[_Entry]) -> str:
    page = settings.PORTAL_BASE_URL.rstrip("/") + reverse("fleet-upgrade", args=[upgrade.pk])
    lines = [
        f"Opened by the Secrets Access Portal ({page}): the files the portal renders "
        f"changed, and these bindings' files in this repository are rewritten to what it "
        f"renders now. Their secrets, roles and names do not change.",
        "",
        f"Bindings ({len(entries)}):",
        "",
    ]
    for e in entries[:MAX_LISTED]:
        b = e.check.binding
        lines.append(
            f"- #{b.pk} {code_span(f'{b.namespace}/{b.service_account}')}: "
            f"{len(e.writes)} written, {len(e.deletes)} deleted"
            + (f", {len(e.overwrites)} edited by hand and overwritten" if e.overwrites else "")
        )
    if len(entries) > MAX_LISTED:
        lines.append(f"- and {len(entries) - MAX_LISTED} more: the portal's page lists them all.")
    lines += ["", MERGE_ORDER[upgrade.repository]]
    overwritten = [p for e in entries for p in e.overwrites]
    if overwritten:
        lines += [
            "",
            f"**{len(overwritten)} file(s) had been edited by hand** (or the portal has no "
            "record of writing them) and are overwritten at an admin's request; review them.",
        ]
    return "\n".join(lines) + "\n"
