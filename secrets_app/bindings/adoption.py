"""Import candidates: record what discovery found, then adopt or dismiss it.

Each service runs in one transaction and locks the candidate rows it changes
(``select_for_update``), so a discovery and an adopt, or two adopts, never
interleave: the second sees what the first did. Adopting writes the Binding,
its BindingSecret rows, the candidate's new status and the audit event
``binding.imported`` together; the unique live binding per ServiceAccount
refuses a second binding of the same place whatever else happens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.bindings.discovery import Defaults, Discovery, Found, discover, propose
from secrets_app.events.audit import audit_record
from secrets_app.health.service import client_for
from secrets_app.models import (
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    Cluster,
    ImportCandidate,
)
from secrets_app.ownership import claims
from secrets_app.rendering.name_rules import is_number

Status = ImportCandidate.Status
#: Fields discovery refreshes on every run.
FOUND_FIELDS = ("role_arn", "service", "secret_provider_classes", "workloads", "last_seen_at")


class ImportRefused(Exception):
    """The whole action is refused (e.g. not allowed); shown as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Decision:
    """What one adopt or dismiss did: per candidate, done or why not."""

    done: list[ImportCandidate] = field(default_factory=list)
    unchanged: list[ImportCandidate] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)


def can_review(user) -> bool:
    """Discovering and adopting are the platform team's (and admins') call."""
    return is_approver(user) or is_admin(user)


def candidate_proposal(candidate: ImportCandidate):
    return propose(
        candidate.service_account,
        candidate.role_arn,
        candidate.secret_provider_classes or [],
        candidate.workloads or [],
    )


def defaults_for(cluster: Cluster) -> Defaults:
    return Defaults(cluster.partition, cluster.region, cluster.aws_account_id)


def discover_cluster(cluster_id: int) -> tuple[Discovery, dict[str, int]] | None:
    """Read one cluster and record its candidates; ``None`` if it is gone.

    The cluster is read outside any transaction; its errors
    (``RetryableError``/``PermanentError``) reach the caller.
    """
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return None
    with client_for(cluster) as kube:
        found = discover(kube, defaults_for(cluster))
    return found, record_candidates(cluster, found.found)


@transaction.atomic
def record_candidates(
    cluster: Cluster, found: Iterable[Found], *, now: datetime | None = None
) -> dict[str, int]:
    """Upsert one candidate per place found (a fixed number of queries).

    A place with a live binding is "known"; one proposed or known before and
    not found now is "gone"; a dismissed one stays dismissed; an adopted one
    stays adopted while its binding lives. Returns the count per status.
    """
    now = now or timezone.now()
    existing = {
        (c.namespace, c.service_account): c
        for c in ImportCandidate.objects.select_for_update().filter(cluster=cluster)
    }
    live = {
        (b.namespace, b.service_account): b
        for b in Binding.objects.filter(cluster=cluster)
        .exclude(state=BindingState.REVOKED)
        .only("pk", "namespace", "service_account")
    }
    new: list[ImportCandidate] = []
    changed: list[ImportCandidate] = []
    for item in found:
        place = (item.namespace, item.service_account)
        candidate = existing.pop(place, None)
        if candidate is None:
            candidate = ImportCandidate(
                cluster=cluster, namespace=item.namespace, service_account=item.service_account
            )
            new.append(candidate)
        else:
            changed.append(candidate)
        candidate.role_arn = item.role_arn
        candidate.service = item.service
        candidate.secret_provider_classes = item.classes
        candidate.workloads = item.workloads
        candidate.last_seen_at = now
        _settle(candidate, live.get(place))
    refreshed = [*new, *changed]
    for candidate in existing.values():
        if candidate.status in (Status.PROPOSED, Status.KNOWN):
            candidate.status = Status.GONE
            changed.append(candidate)
    # Two discoveries of one cluster are kept apart by the task's lock; should
    # one run anyway, the first insert of a place wins and the other is dropped.
    ImportCandidate.objects.bulk_create(new, ignore_conflicts=True)
    ImportCandidate.objects.bulk_update(
        changed, [*FOUND_FIELDS, "status", "binding"], batch_size=500
    )
    return dict(Counter(c.status for c in [*refreshed, *existing.values()]))


def _settle(candidate: ImportCandidate, binding: Binding | None) -> None:
    if binding is not None:
        if candidate.status == Status.ADOPTED and candidate.binding_id == binding.pk:
            return
        candidate.status, candidate.binding = Status.KNOWN, binding
    elif candidate.status != Status.DISMISSED:
        # New, back after being gone, or its binding was revoked meanwhile.
        candidate.status, candidate.binding = Status.PROPOSED, None


def _locked(
    candidate_ids: Iterable[int | str], decision: Decision, cluster: Cluster | None
) -> list[ImportCandidate]:
    ids: set[int] = set()
    for raw in candidate_ids:
        text = str(raw)
        if not is_number(text) or len(text) > 12:
            decision.refused.append((0, f"{text[:20]!r} is not a candidate number."))
            continue
        ids.add(int(text))
    rows = ImportCandidate.objects.select_for_update(of=("self",)).select_related("cluster")
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    rows = list(rows.filter(pk__in=ids).order_by("pk"))
    for missing in sorted(ids - {c.pk for c in rows}):
        decision.refused.append((missing, f"Candidate #{missing} does not exist."))
    return rows


def _require_reviewer(actor) -> None:
    if actor is None or not can_review(actor):
        raise ImportRefused("Only the platform team and admins may adopt or dismiss candidates.")


@transaction.atomic
def candidates_adopt(
    *,
    candidate_ids: Iterable[int | str],
    actor: AbstractBaseUser,
    owner: AbstractBaseUser | None = None,
    cluster: Cluster | None = None,
) -> Decision:
    """Make a Binding (source "imported") of each adoptable candidate.

    Idempotent: an adopted candidate is left as it is. A candidate that
    cannot be adopted is refused with the reason; the others still are.
    ``owner`` (default: the actor) is who expiry reminders go to; ``cluster``
    limits the candidates to one cluster (the page's).
    """
    _require_reviewer(actor)
    decision = Decision()
    now = timezone.now()
    for candidate in _locked(candidate_ids, decision, cluster):
        if candidate.status == Status.ADOPTED and candidate.binding_id:
            decision.unchanged.append(candidate)
            continue
        reason = _refusal(candidate)
        if reason:
            decision.refused.append((candidate.pk, reason))
            continue
        try:
            binding = _create_binding(candidate, owner or actor)
        except claims.ClaimHeld as held:
            decision.refused.append((candidate.pk, f"{candidate}: {held}"))
            continue
        if binding is None:
            decision.refused.append(
                (
                    candidate.pk,
                    f"{candidate}: a live binding of this ServiceAccount exists already.",
                )
            )
            continue
        before = {"status": candidate.status}
        candidate.status, candidate.binding = Status.ADOPTED, binding
        candidate.decided_by, candidate.decided_at = actor, now
        candidate.save(update_fields=["status", "binding", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="binding.imported",
            obj=binding,
            before=before,
            after={
                "candidate": candidate.pk,
                "role_arn": binding.role_arn,
                "service_account": binding.service_account,
                "owner": binding.owner.get_username() if binding.owner else "",
            },
            message=f"Adopted from {candidate.cluster.name}/{candidate.namespace}.",
        )
        decision.done.append(candidate)
        decision.bindings.append(binding)
    return decision


def _refusal(candidate: ImportCandidate) -> str:
    if candidate.status == Status.KNOWN:
        return f"{candidate}: already a binding."
    if candidate.status == Status.GONE:
        return f"{candidate}: no longer in the cluster; discover again."
    proposal = candidate_proposal(candidate)
    if proposal.blocking:
        return f"{candidate}: {proposal.blocking[0]}"
    return ""


def _create_binding(candidate: ImportCandidate, owner) -> Binding | None:
    proposal = candidate_proposal(candidate)
    try:
        # A savepoint: the unique live binding per ServiceAccount may refuse
        # (a portal request activated here since the last discovery).
        with transaction.atomic():
            binding = Binding.objects.create(
                cluster=candidate.cluster,
                namespace=candidate.namespace,
                service=proposal.service,
                service_account=candidate.service_account,
                secret_provider_class=proposal.secret_provider_class,
                role_arn=candidate.role_arn,
                workload_kind=proposal.workload_kind,
                workload_name=proposal.workload_name,
                synced_secret_names=proposal.synced_secret_names,
                source=BindingSource.IMPORTED,
                owner=owner,
            )
            # Its ServiceAccount and role are held from now on, like a
            # portal binding's (files: found when it is revoked).
            claims.take(claims.wanted_for_binding(binding), binding=binding)
    except IntegrityError:
        existing = (
            Binding.objects.filter(
                cluster=candidate.cluster,
                namespace=candidate.namespace,
                service_account=candidate.service_account,
            )
            .exclude(state=BindingState.REVOKED)
            .first()
        )
        candidate.status, candidate.binding = Status.KNOWN, existing
        candidate.save(update_fields=["status", "binding"])
        return None
    BindingSecret.objects.bulk_create(
        BindingSecret(binding=binding, arn=s["arn"], name=s["name"], alias=s["alias"])
        for s in proposal.secrets
    )
    return binding


@transaction.atomic
def candidates_dismiss(
    *, candidate_ids: Iterable[int | str], actor: AbstractBaseUser, cluster: Cluster | None = None
) -> Decision:
    """Set candidates aside; discovery keeps them dismissed until adopted."""
    _require_reviewer(actor)
    decision = Decision()
    now = timezone.now()
    for candidate in _locked(candidate_ids, decision, cluster):
        if candidate.status == Status.DISMISSED:
            decision.unchanged.append(candidate)
            continue
        if candidate.status in (Status.ADOPTED, Status.KNOWN):
            decision.refused.append(
                (candidate.pk, f"{candidate}: already a binding; ask for its revocation instead.")
            )
            continue
        before = {"status": candidate.status}
        candidate.status = Status.DISMISSED
        candidate.decided_by, candidate.decided_at = actor, now
        candidate.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="import.dismissed",
            obj=candidate,
            before=before,
            after={"status": Status.DISMISSED.value},
        )
        decision.done.append(candidate)
    return decision
