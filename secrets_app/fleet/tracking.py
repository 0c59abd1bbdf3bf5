"""Following upgrade pull requests as the portal follows a request's: the
webhook and the poll move their state (forward only, as
``workflow.pull_move_allowed`` says); once one merged, each binding it
carried records the files as written by the portal (its paths and blob
ids), holds the claims of its new paths and gives back those it deleted.

A binding that is no longer active, or whose files come from a change
merged since the upgrade was opened, keeps its record: the entry says why.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from secrets_app.events.audit import audit_record
from secrets_app.fleet.expected import chunks, current_requests
from secrets_app.integrations.backends import backends_for
from secrets_app.integrations.repos import MergeableRepoBackend, PullRequestRef
from secrets_app.models import (
    Binding,
    BindingState,
    PullRequestState,
    Upgrade,
    UpgradeBinding,
)
from secrets_app.ownership import claims
from secrets_app.requests.workflow import WorkflowError, pull_move_allowed

log = logging.getLogger(__name__)

#: Closed upgrades are polled this long after closing (someone may reopen).
POLL_CLOSED_FOR = datetime.timedelta(days=7)


@transaction.atomic
def upgrade_record_pull(*, upgrade_id: int, ref: PullRequestRef) -> Upgrade:
    """Store the pull request the backend opened (or found) for an upgrade."""
    upgrade = Upgrade.objects.select_for_update().get(pk=upgrade_id)
    if upgrade.state == PullRequestState.MERGED:
        return upgrade
    opened = upgrade.number != ref.number
    upgrade.number, upgrade.head_sha = ref.number, ref.head_sha or ""
    # Shown as a link: only http(s), whatever the server answered.
    upgrade.url = ref.url if urlsplit(ref.url).scheme in ("https", "http") else ""
    upgrade.save(update_fields=["number", "head_sha", "url", "updated_at"])
    if opened:
        audit_record(
            actor=None,
            action="upgrade.opened",
            obj=upgrade,
            after={"repository": upgrade.repository, "url": upgrade.url, "number": ref.number},
        )
    if ref.state != upgrade.state:
        return _move(upgrade, ref.state, actor=None, reopen=False)
    return upgrade


@transaction.atomic
def upgrade_update_state(
    *,
    upgrade_id: int,
    state: str,
    actor=None,
    reopen: bool = False,
    remote_updated_at=None,
) -> Upgrade:
    """An upgrade pull request merged, closed or reopened (webhook, poll,
    the demo's merge button). Monotonic, as a request's pull requests."""
    upgrade = Upgrade.objects.select_for_update().select_related("cluster").get(pk=upgrade_id)
    if remote_updated_at is not None:
        if upgrade.remote_updated_at is not None and remote_updated_at < upgrade.remote_updated_at:
            return upgrade
        upgrade.remote_updated_at = remote_updated_at
        upgrade.save(update_fields=["remote_updated_at", "updated_at"])
    return _move(upgrade, state, actor=actor, reopen=reopen)


def _move(upgrade: Upgrade, state: str, *, actor, reopen: bool) -> Upgrade:
    if not pull_move_allowed(upgrade.state, state, reopen=reopen):
        return upgrade
    before = upgrade.state
    upgrade.state = state
    if state == PullRequestState.MERGED:
        upgrade.merged_at = timezone.now()
    upgrade.save(update_fields=["state", "merged_at", "updated_at"])
    after: dict = {"state": state, "url": upgrade.url}
    if state == PullRequestState.MERGED:
        after.update(_record_merged(upgrade))
    elif state == PullRequestState.CLOSED:
        _release_unmerged(upgrade)
    audit_record(
        actor=actor,
        action="upgrade.reopened" if state == PullRequestState.OPEN else f"upgrade.{state}",
        obj=upgrade,
        before={"state": before},
        after=after,
    )
    return upgrade


def _locked_bindings(ids: list[int]) -> dict[int, Binding]:
    found: dict[int, Binding] = {}
    for part in chunks(sorted(ids)):
        rows = (
            Binding.objects.select_for_update(of=("self",))
            .select_related("cluster")
            .filter(pk__in=part)
            .order_by("pk")
        )
        found.update({b.pk: b for b in rows})
    return found


def _record_merged(upgrade: Upgrade) -> dict:
    """The merged upgrade's bindings take its files as theirs."""
    repository = upgrade.repository
    entries = list(upgrade.entries.order_by("binding_id"))
    bindings = _locked_bindings([e.binding_id for e in entries])
    current = current_requests(list(bindings.values()))
    applied: list[Binding] = []
    taking: dict[Binding, list[str]] = {}
    for entry in entries:
        binding = bindings[entry.binding_id]
        if binding.state != BindingState.ACTIVE:
            entry.applied = False
            entry.note = f"The binding is {binding.get_state_display().lower()}: not recorded."
            continue
        if current.get(binding.pk) != entry.request_id:
            entry.applied = False
            entry.note = (
                f"Its files now come from request #{current.get(binding.pk)} (merged since the "
                "upgrade was opened): not recorded; the next check compares them again."
            )
            continue
        entry.applied = True
        binding.files = {**(binding.files or {}), repository: sorted(entry.files)}
        binding.file_hashes = {**(binding.file_hashes or {}), repository: dict(entry.files)}
        applied.append(binding)
        taking[binding] = sorted(entry.files)
        if entry.deletes:
            claims.release_paths(binding, repository, entry.deletes)
    # Its paths are the binding's: taken when the upgrade opened, again here
    # in case it was closed (and they were given back) then reopened.
    refused = claims.take_paths(upgrade.cluster, repository, taking) if taking else {}
    for entry in entries:
        if entry.binding_id in refused:
            entry.note = f"Recorded, but {refused[entry.binding_id]}."
    Binding.objects.bulk_update(applied, ["files", "file_hashes"], batch_size=500)
    UpgradeBinding.objects.bulk_update(entries, ["applied", "note"], batch_size=500)
    return {"applied": len(applied), "not_applied": len(entries) - len(applied)}


def _release_unmerged(upgrade: Upgrade) -> None:
    """Closed without merging: its bindings give back the paths they took
    for it (those their files do not include)."""
    entries = list(upgrade.entries.select_related("binding__cluster"))
    for entry in entries:
        owned = set((entry.binding.files or {}).get(upgrade.repository) or [])
        claims.release_paths(
            entry.binding, upgrade.repository, [p for p in entry.writes if p not in owned]
        )


def apply_upgrade_webhook(change: dict) -> dict | None:
    """A ``pull_request`` webhook's change (``webhooks.webhook_change``) for
    an upgrade pull request; None when it is not one."""
    upgrade = Upgrade.objects.filter(repo_name=change["repo_name"], number=change["number"]).first()
    if upgrade is None:
        return None
    if change["state"] is None:
        return {"ignored": "nothing to record for this action"}
    upgrade = upgrade_update_state(
        upgrade_id=upgrade.pk,
        state=change["state"],
        reopen=change["state"] == PullRequestState.OPEN,
        remote_updated_at=change["updated_at"],
    )
    return {"ok": True, "state": upgrade.state, "upgrade": upgrade.pk}


def upgrades_to_poll() -> Iterable[Upgrade]:
    recent = timezone.now() - POLL_CLOSED_FOR
    return (
        Upgrade.objects.filter(number__isnull=False)
        .exclude(state=PullRequestState.MERGED)
        .exclude(state=PullRequestState.CLOSED, updated_at__lt=recent)
        .select_related("cluster")
    )


def refresh_upgrades() -> int:
    """The poll's share: read the state of each upgrade pull request that can
    still change. One that fails is logged and skipped. Returns how many
    changed."""
    changed = 0
    for upgrade in upgrades_to_poll():
        try:
            ref = backends_for(upgrade.cluster)[upgrade.repository].get_pull_request(upgrade.number)
            if ref.state != upgrade.state:
                upgrade_update_state(
                    upgrade_id=upgrade.pk,
                    state=ref.state,
                    reopen=True,
                    remote_updated_at=ref.updated_at,
                )
                changed += 1
        except Exception as error:
            log.warning("poll of upgrade %s failed: %s", upgrade.pk, error)
    return changed


def infra_first(upgrade: Upgrade) -> Upgrade | None:
    """The open infra upgrade of the cluster that must merge before this
    deploy upgrade (None: nothing waits)."""
    if upgrade.repository != "deploy":
        return None
    return (
        Upgrade.objects.filter(
            cluster_id=upgrade.cluster_id, repository="infra", state=PullRequestState.OPEN
        )
        .order_by("pk")
        .first()
    )


def merge_local_upgrade(upgrade: Upgrade, *, actor) -> Upgrade:
    """The demo's merge button for an upgrade pull request in local git."""
    backend = backends_for(upgrade.cluster)[upgrade.repository]
    if not isinstance(backend, MergeableRepoBackend) or upgrade.number is None:
        raise WorkflowError("Pull requests on GitHub are merged on GitHub.", code="forbidden")
    infra = infra_first(upgrade)
    if infra is not None:
        raise WorkflowError(
            f"Merge the infra upgrade #{infra.pk} of {upgrade.cluster.name} first: the roles "
            "and policies must be in place before the workloads use them.",
            code="wrong_order",
        )
    ref = backend.merge_pull_request(upgrade.number)
    return upgrade_update_state(upgrade_id=upgrade.pk, state=ref.state, actor=actor)
