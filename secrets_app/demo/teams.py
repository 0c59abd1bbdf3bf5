"""Demo teams and the namespaces they own. The fake clusters carry the team
label on their namespaces, as real ones would, and the same ownership is
recorded at seed time (as a first sweep would) so that the demo's requests
can be filed before any sweep ran."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from fakes.cluster_ready import SYSTEM_NAMESPACES, system_objects
from secrets_app.demo.clusters import SANDBOX_STORY
from secrets_app.demo.names import team_group
from secrets_app.models import Cluster
from secrets_app.ownership import teams

#: namespace -> owning team, on the clusters whose fakes start empty.
JANUS_NAMESPACES = {"deploy": "team-data", "analytics": "team-data", "payments": "team-payments"}
#: The sandbox's namespaces belong to the team of the same name; the
#: hand-made ``legacy`` one to team-data, who will adopt its bindings.
SANDBOX_TEAMS = {ns: team_group(ns) for ns, _, _ in SANDBOX_STORY} | {"legacy": "team-data"}
#: team -> its members among the demo users (the other teams have none here).
DEMO_TEAMS = {team: [] for team in sorted(set(SANDBOX_TEAMS.values()))} | {
    "team-data": ["alice"],
    "team-payments": ["quinn"],
}


def namespace_object(name: str, team: str) -> dict:
    label = settings.PORTAL_NAMESPACE_TEAM_LABEL
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {label: team}}}


def janus_objects() -> list[dict]:
    """janus-dev's (and janus-prod's) fake: its teams' namespaces, and a
    cluster that runs everything a binding needs (``fakes.cluster_ready``)."""
    namespaces = [namespace_object(name, team) for name, team in JANUS_NAMESPACES.items()]
    return [*namespaces, *system_objects()]


def labelled_sandbox(objects: list[dict]) -> list[dict]:
    """The sandbox's objects, each namespace labelled for its team (the
    hand-made namespace ``legacy`` added)."""
    names = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    others = [o for o in objects if o["kind"] != "Namespace"]
    namespaces = {o["metadata"]["namespace"] for o in others if o["metadata"].get("namespace")}
    # The driver's and Reloader's namespaces belong to no team.
    namespaces -= set(SYSTEM_NAMESPACES)
    return [namespace_object(n, sandbox_team(n)) for n in sorted(names | namespaces)] + others


def sandbox_team(namespace: str) -> str:
    return SANDBOX_TEAMS.get(namespace, "team-data")


def seed_teams(sandbox_namespaces: list[str]) -> None:
    users = {u.username: u for u in get_user_model().objects.all()}
    for team, members in DEMO_TEAMS.items():
        group, _ = Group.objects.get_or_create(name=team)
        group.user_set.add(*(users[m] for m in members if m in users))
    for cluster in Cluster.objects.filter(name__in=["janus-dev", "janus-prod"]):
        teams.record_namespaces(cluster, JANUS_NAMESPACES, {})
    sandbox = Cluster.objects.filter(name="sandbox-eu").first()
    if sandbox is not None:
        labels = {ns: sandbox_team(ns) for ns in sandbox_namespaces}
        teams.record_namespaces(sandbox, labels, {})
