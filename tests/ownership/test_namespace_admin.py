"""The Namespace admin: admins set a namespace's owner (the override wins
over the label), add a namespace the sweep has not seen, and find rows by
cluster, team and name. Every owner set is in the audit log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from secrets_app.models import AuditEvent, Namespace
from tests.factories import ClusterFactory, NamespaceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:secrets_app_namespace_changelist"


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_an_admin_adds_a_namespace_the_sweep_has_not_seen(admin_client, admin_user, cluster):
    payments = TeamFactory(name="payments")
    response = admin_client.post(
        reverse("admin:secrets_app_namespace_add"),
        {"cluster": cluster.pk, "name": "billing", "team_override": payments.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Namespace.objects.get(cluster=cluster, name="billing")
    assert (row.team, row.team_override, row.label_team, row.seen_at) == (
        payments,
        payments,
        "",
        None,
    )
    event = AuditEvent.objects.get(action="namespace.owner_set")
    assert event.actor_name == admin_user.username and event.after == {
        "team": "payments",
        "override": True,
    }


def test_the_override_wins_and_clearing_it_gives_the_label_back(admin_client, cluster):
    shop, payments = TeamFactory(name="shop"), TeamFactory(name="payments")
    row = NamespaceFactory(cluster=cluster, name="web", team=shop)  # as the sweep left it
    url = reverse("admin:secrets_app_namespace_change", args=[row.pk])
    other = ClusterFactory(name="elsewhere")
    # cluster and name are read-only on a row: posted values are ignored.
    posted = {"team_override": payments.pk, "cluster": other.pk, "name": "renamed"}
    assert admin_client.post(url, posted).status_code == 302
    row.refresh_from_db()
    assert (row.cluster, row.name, row.team, row.team_override) == (
        cluster,
        "web",
        payments,
        payments,
    )
    assert admin_client.post(url, {"team_override": ""}).status_code == 302
    row.refresh_from_db()
    assert (row.team, row.team_override) == (shop, None)  # the label's "shop"
    befores = [
        e.before
        for e in AuditEvent.objects.filter(action="namespace.owner_set").order_by("created_at")
    ]
    assert befores == [{"team": "shop"}, {"team": "payments"}]


def test_the_list_filters_by_cluster_and_team_and_searches_names(admin_client, cluster):
    shop = TeamFactory(name="shop")
    NamespaceFactory(cluster=cluster, name="web", team=shop)
    NamespaceFactory(cluster=ClusterFactory(name="prod"), name="web-prod", team=shop)
    url = reverse(CHANGELIST)
    page = admin_client.get(url)
    assert page.status_code == 200
    assert {n.name for n in page.context["cl"].result_list} == {"deploy", "web", "web-prod"}
    by_team = admin_client.get(url, {"team__id__exact": shop.pk}).context["cl"].result_list
    assert {n.name for n in by_team} == {"web", "web-prod"}
    by_cluster = admin_client.get(url, {"cluster__id__exact": cluster.pk}).context["cl"]
    assert {n.name for n in by_cluster.result_list} == {"deploy", "web"}
    found = admin_client.get(url, {"q": "prod"}).context["cl"].result_list
    assert [n.name for n in found] == ["web-prod"]
    text = page.content.decode()
    for column in ("Team label", "Team override", "Seen at"):
        assert column in text


def test_only_admins_reach_it(cluster):
    client = Client()
    client.force_login(UserFactory(username="alice-not-staff"))
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302 and "/login/" in response["Location"]
