"""The request form offers the namespaces of the requester's teams first,
in a <datalist> on a field that stays free text."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import DEPLOY_TEAM
from tests.factories import ClusterFactory, NamespaceFactory, TeamFactory, own_namespace
from tests.support.access_requests import request_form_data, secrets_form_data
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

URL = reverse("request-create")


def suggestions(html: str) -> list[tuple[str, str]]:
    """(value, label) of each option of the namespace field's datalist."""
    found = re.search(r'<datalist id="namespace-suggestions">(.*?)</datalist>', html, re.S)
    if found is None:
        return []
    return re.findall(r'<option value="([^"]*)" label="([^"]*)"', found.group(1))


@pytest.fixture
def world(requester, cluster):
    """alice's teams own deploy (team-deploy) and billing on janus-dev, and
    deploy-prod on janus-prod; payments owns payments on janus-dev."""
    prod = ClusterFactory(name="janus-prod", environment="prod")
    own_namespace(requester, cluster, "billing", team="billing-team")
    own_namespace(requester, prod, "deploy-prod", team=DEPLOY_TEAM)
    NamespaceFactory(cluster=cluster, name="payments", team=TeamFactory(name="payments"))
    NamespaceFactory(cluster=ClusterFactory(name="old", active=False), name="gone")
    return cluster, prod


def test_a_new_form_suggests_the_users_namespaces_on_every_cluster(requester, world):
    html = client_for(requester).get(URL).content.decode()
    assert suggestions(html) == [
        ("billing", "janus-dev · your team billing-team"),
        ("deploy", f"janus-dev · your team {DEPLOY_TEAM}"),
        ("deploy-prod", f"janus-prod · your team {DEPLOY_TEAM}"),
    ]
    field = re.search(r'<input[^>]*name="namespace"[^>]*>', html).group(0)
    assert 'type="text"' in field and 'list="namespace-suggestions"' in field
    assert "Your teams&#x27; namespaces are suggested first." in html


def test_once_a_cluster_is_chosen_only_its_namespaces_are_suggested(requester, world):
    _, prod = world
    post = {**request_form_data(prod, namespace=""), **secrets_form_data({}), "action": "preview"}
    html = client_for(requester).post(URL, post).content.decode()
    assert suggestions(html) == [("deploy-prod", f"your team {DEPLOY_TEAM}")]


def test_an_admin_gets_every_known_namespace_of_the_cluster_after_their_own(admin_user, world):
    cluster, _ = world
    own_namespace(admin_user, cluster, "platform-tools", team="platform-ops")
    post = {
        **request_form_data(cluster, namespace=""),
        **secrets_form_data({}),
        "action": "preview",
    }
    html = client_for(admin_user).post(URL, post).content.decode()
    assert suggestions(html) == [
        ("platform-tools", "your team platform-ops"),
        ("billing", "billing-team"),
        ("deploy", DEPLOY_TEAM),
        ("payments", "payments"),
    ]


def test_someone_in_no_team_gets_no_list_and_is_told_why(other_user, world):
    cluster, _ = world
    html = client_for(other_user).get(URL).content.decode()
    assert suggestions(html) == [] and 'list="namespace-suggestions"' not in html
    assert "None of your teams owns a namespace yet" in html
    post = {
        **request_form_data(cluster, namespace=""),
        **secrets_form_data({}),
        "action": "preview",
    }
    html = client_for(other_user).post(URL, post).content.decode()
    assert "None of your teams owns a namespace in janus-dev yet" in html
