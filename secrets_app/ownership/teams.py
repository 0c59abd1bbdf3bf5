"""Teams own namespaces. A team is a Django group (from single sign-on's
groups claim, or made by an admin). Which team owns a namespace of a
cluster comes from the cluster, the namespace label named by
``PORTAL_NAMESPACE_TEAM_LABEL`` that the health sweep reads, unless an admin
set an owner in the portal, which wins.

Requesters file grants only in namespaces their teams own. A request for
another team's namespace is refused rather than sent to that team for an
extra approval: the owning team can file it themselves, the portal never
writes into a team's workload without that team asking, and there is no
second approval path to get wrong. Admins may file anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from secrets_app.accounts.roles import is_admin
from secrets_app.models import Cluster, Namespace


def team_ids(user) -> set[int]:
    """The groups (teams) the user is in, cached on the user object."""
    cached = getattr(user, "_portal_team_ids", None)
    if cached is None:
        cached = set(user.groups.values_list("pk", flat=True)) if user.is_authenticated else set()
        user._portal_team_ids = cached
    return cached


def namespace_of(cluster: Cluster, name: str) -> Namespace | None:
    return Namespace.objects.select_related("team").filter(cluster=cluster, name=name).first()


def owner_problem(user, cluster: Cluster, namespace: str) -> str:
    """Why ``user`` may not file a grant in ``cluster``/``namespace`` ("" when they may)."""
    if is_admin(user):
        return ""
    known = namespace_of(cluster, namespace)
    if known is None or known.team_id is None:
        return (
            f"No team owns namespace {namespace} in {cluster.name} yet, so nobody can ask for "
            "access there: the platform team sets its owner (the namespace's team label, "
            "or in the portal's admin)."
        )
    if known.team_id in team_ids(user):
        return ""
    return (
        f"Namespace {namespace} in {cluster.name} belongs to team {known.team.name}; only its "
        "members can ask for access to its workloads. Ask one of them to file this request."
    )


def namespaces_of(user, cluster: Cluster | None = None) -> list[Namespace]:
    """The namespaces the user's teams own (on one cluster, or all)."""
    found = Namespace.objects.filter(team_id__in=team_ids(user)).select_related("cluster")
    if cluster is not None:
        found = found.filter(cluster=cluster)
    return list(found.order_by("cluster__name", "name"))


def resolve_team(label_team: str, override: Group | None) -> Group | None:
    if override is not None:
        return override
    if not label_team:
        return None
    return Group.objects.filter(name=label_team).first()


def set_override(namespace: Namespace, team: Group | None) -> Namespace:
    """An admin names the owner (``None``: the label decides again)."""
    namespace.team_override = team
    namespace.team = resolve_team(namespace.label_team, team)
    namespace.save(update_fields=["team_override", "team"])
    return namespace


@transaction.atomic
def record_namespaces(
    cluster: Cluster,
    labels: Mapping[str, str],
    workload_accounts: Mapping[str, Mapping[str, list[str]]],
) -> int:
    """What a sweep read: each namespace's team label (``labels``: name ->
    label value, "" for none) and the ServiceAccounts of its workloads.
    Upserts one row per namespace in a fixed number of queries; a namespace
    no longer listed keeps its row (and its override) with ``seen_at`` old."""
    now = timezone.now()
    names = set(labels) | set(workload_accounts)
    existing = {
        n.name: n
        for n in Namespace.objects.select_for_update().filter(cluster=cluster, name__in=names)
    }
    wanted_groups = {v for v in labels.values() if v}
    groups = {g.name: g for g in Group.objects.filter(name__in=wanted_groups)}
    new, changed = [], []
    for name in sorted(names):
        row = existing.get(name) or Namespace(cluster=cluster, name=name)
        row.label_team = labels.get(name, "")
        row.workload_accounts = {k: sorted(v) for k, v in workload_accounts.get(name, {}).items()}
        row.seen_at = now
        if row.team_override_id is not None:
            row.team_id = row.team_override_id
        else:
            group = groups.get(row.label_team)
            row.team_id = group.pk if group else None
        (changed if row.pk else new).append(row)
    Namespace.objects.bulk_create(new)
    Namespace.objects.bulk_update(
        changed, ["label_team", "workload_accounts", "seen_at", "team"], batch_size=500
    )
    return len(names)


def owned_by(team: Group | int | str) -> Q:
    """Bindings (or requests) in namespaces ``team`` owns, as a filter."""
    from django.db.models import Exists, OuterRef

    if isinstance(team, Group):
        match = Q(team=team)
    elif isinstance(team, int):
        match = Q(team_id=team)
    else:
        match = Q(team__name=team)
    return Q(
        Exists(
            Namespace.objects.filter(
                match, cluster_id=OuterRef("cluster_id"), name=OuterRef("namespace")
            )
        )
    )


def teams_named(names: Iterable[str]) -> list[Group]:
    return list(Group.objects.filter(name__in=list(names)))
