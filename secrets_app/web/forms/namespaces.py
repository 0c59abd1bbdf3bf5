"""The request form's namespace suggestions: the namespaces the requester's
teams own come first (on the chosen cluster, or on every cluster when none
is chosen yet); an admin, who may file anywhere, also gets the other
namespaces the portal knows on the chosen cluster. The field stays free
text: a suggestion is a shortcut, never a limit."""

from __future__ import annotations

from dataclasses import dataclass

from secrets_app.accounts.roles import is_admin
from secrets_app.models import Cluster, Namespace
from secrets_app.ownership import teams
from secrets_app.rendering.name_rules import is_number

#: Suggestions of other teams' namespaces an admin gets at most.
MAX_OTHERS = 200


@dataclass(frozen=True)
class Suggestion:
    value: str  # the namespace
    label: str  # what the browser shows beside it
    mine: bool  # owned by one of the requester's teams


def chosen_cluster(value: object) -> Cluster | None:
    """The active cluster the form's ``cluster`` value names (its id), if any."""
    text = str(value or "").strip()
    if not is_number(text) or len(text) > 18:
        return None
    return Cluster.objects.filter(active=True, pk=int(text)).first()


def namespace_suggestions(user, cluster: Cluster | None) -> list[Suggestion]:
    mine = [n for n in teams.namespaces_of(user, cluster) if n.cluster.active]
    found = [_suggestion(n, cluster, mine=True) for n in mine]
    if cluster is not None and is_admin(user):
        others = (
            Namespace.objects.filter(cluster=cluster)
            .exclude(pk__in=[n.pk for n in mine])
            .select_related("team")
            .order_by("name")[:MAX_OTHERS]
        )
        found += [_suggestion(n, cluster, mine=False) for n in others]
    return found


def _suggestion(namespace: Namespace, cluster: Cluster | None, *, mine: bool) -> Suggestion:
    owner = namespace.team.name if namespace.team_id else "no team"
    parts = [f"your team {owner}" if mine else owner]
    if cluster is None:  # every cluster's: say which
        parts.insert(0, namespace.cluster.name)
    return Suggestion(namespace.name, " · ".join(parts), mine)
