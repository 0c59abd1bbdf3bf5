"""Bindings and requests show the team that owns their namespace: the
binding page, the request page, the requests list and approval queue, and
the API's ``team`` (with the ``team`` filter of the inventory's API)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import DEPLOY_TEAM
from tests.factories import (
    AccessRequestFactory,
    BindingFactory,
    ClusterFactory,
    NamespaceFactory,
    TeamFactory,
)
from tests.support.clients import api_client_for, client_for

pytestmark = pytest.mark.django_db


def test_the_binding_page_names_the_owning_team_and_links_its_bindings(requester, cluster):
    owned = BindingFactory(cluster=cluster, namespace="deploy")
    unowned = BindingFactory(cluster=cluster, namespace="scratch")
    web = client_for(requester)
    page = web.get(owned.get_absolute_url()).content.decode()
    assert f'href="{reverse("binding-list")}?team={DEPLOY_TEAM}"' in page
    assert "no team owns scratch" in web.get(unowned.get_absolute_url()).content.decode()


def test_request_pages_and_the_queue_show_the_namespace_team(requester, approver, cluster):
    pending = AccessRequestFactory(requester=requester, cluster=cluster, namespace="deploy")
    elsewhere = AccessRequestFactory(requester=requester, cluster=cluster, namespace="scratch")
    mine = client_for(requester)
    assert f"(team: {DEPLOY_TEAM})" in mine.get(pending.get_absolute_url()).content.decode()
    assert "(team: none)" in mine.get(elsewhere.get_absolute_url()).content.decode()
    listed = mine.get(reverse("request-list"))
    teams = {r.record.pk: r.record.team_name for r in listed.context["table"].page.object_list}
    assert teams == {pending.pk: DEPLOY_TEAM, elsewhere.pk: None}
    queue = client_for(approver).get(reverse("approval-queue"))
    rows = queue.context["table"].page.object_list
    assert {r.record.pk: r.record.team_name for r in rows} == teams
    assert ">Team<" in queue.content.decode()


def test_the_api_gives_each_binding_its_team_and_filters_by_it(requester, cluster):
    payments = TeamFactory(name="payments")
    prod = ClusterFactory(name="prod")
    NamespaceFactory(cluster=prod, name="deploy", team=payments)  # same name, other cluster
    ours = BindingFactory(cluster=cluster, namespace="deploy")
    theirs = BindingFactory(cluster=prod, namespace="deploy")
    nobodys = BindingFactory(cluster=cluster, namespace="scratch")
    api = api_client_for(requester)
    listed = api.get("/api/bindings/").json()["results"]
    assert {b["id"]: b["team"] for b in listed} == {
        ours.pk: DEPLOY_TEAM,
        theirs.pk: "payments",
        nobodys.pk: None,
    }
    assert api.get(f"/api/bindings/{theirs.pk}/").json()["team"] == "payments"
    filtered = api.get("/api/bindings/", {"team": "payments"}).json()["results"]
    assert [b["id"] for b in filtered] == [theirs.pk]
    assert api.get("/api/bindings/", {"team": "nobody"}).json()["count"] == 0
