"""Demo teams and the namespaces they own. The fake clusters carry the team
label on their namespaces, as real ones would, and the same ownership is
recorded at seed time (as a first sweep would) so that the demo's requests
can be filed before any sweep ran."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from secrets_app.models import Cluster
from secrets_app.ownership import teams

#: team -> its members among the demo users.
DEMO_TEAMS = {"team-data": ["alice"], "team-payments": ["quinn"]}
#: namespace -> owning team, on the clusters whose fakes start empty.
JANUS_NAMESPACES = {"deploy": "team-data", "analytics": "team-data", "payments": "team-payments"}
#: The sandbox's generated namespaces and its hand-made one belong to team-data.
SANDBOX_TEAM = "team-data"


def namespace_object(name: str, team: str) -> dict:
    label = settings.PORTAL_NAMESPACE_TEAM_LABEL
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {label: team}}}


def janus_objects() -> list[dict]:
    return [namespace_object(name, team) for name, team in JANUS_NAMESPACES.items()]


def labelled_sandbox(objects: list[dict]) -> list[dict]:
    """The sandbox's objects, its namespaces labelled for team-data (the
    hand-made namespace ``legacy`` added)."""
    names = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    others = [o for o in objects if o["kind"] != "Namespace"]
    namespaces = {o["metadata"]["namespace"] for o in others if o["metadata"].get("namespace")}
    return [namespace_object(n, SANDBOX_TEAM) for n in sorted(names | namespaces)] + others


def seed_teams(sandbox_namespaces: list[str]) -> None:
    users = {u.username: u for u in get_user_model().objects.all()}
    for team, members in DEMO_TEAMS.items():
        group, _ = Group.objects.get_or_create(name=team)
        group.user_set.add(*(users[m] for m in members if m in users))
    for cluster in Cluster.objects.filter(name__in=["janus-dev", "janus-prod"]):
        teams.record_namespaces(cluster, JANUS_NAMESPACES, {})
    sandbox = Cluster.objects.filter(name="sandbox-eu").first()
    if sandbox is not None:
        teams.record_namespaces(sandbox, dict.fromkeys(sandbox_namespaces, SANDBOX_TEAM), {})
