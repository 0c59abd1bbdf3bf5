"""The bindings inventory: filters, search, CSV export and a constant number
of queries however many bindings there are."""

import csv
import io

import pytest
from django.urls import reverse

from secrets_app.models import Binding, BindingSecret
from tests.factories import (
    BindingFactory,
    BindingSecretFactory,
    ClusterFactory,
    NamespaceFactory,
    TeamFactory,
)
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def make_bindings(cluster, count, *, prefix="svc", health="healthy"):
    bindings = Binding.objects.bulk_create(
        BindingFactory.build(
            cluster=cluster,
            namespace=f"team-{i % 7}",
            service=f"{prefix}-{i}",
            role_arn=f"arn:aws:iam::{cluster.aws_account_id}:role/{prefix}-{i}",
            health_status=health,
        )
        for i in range(count)
    )
    BindingSecret.objects.bulk_create(
        BindingSecretFactory.build(
            binding=b,
            arn=f"arn:aws:secretsmanager:us-west-2:287796791794:secret:{b.service}/db-AbCdEf",
            name=f"{b.service}/db",
            alias="db",
        )
        for b in bindings
    )
    return bindings


@pytest.fixture
def engineer(requester):
    return client_for(requester)


def listed(response):
    return [row.record.service for row in response.context["table"].page.object_list]


def test_filters_narrow_the_list(engineer):
    dev, prod = ClusterFactory(name="dev"), ClusterFactory(name="prod", environment="prod")
    make_bindings(dev, 5)
    make_bindings(prod, 3, prefix="pay", health="failing")
    url = reverse("binding-list")
    assert len(listed(engineer.get(url))) == 8
    assert sorted(listed(engineer.get(url, {"cluster": prod.pk}))) == ["pay-0", "pay-1", "pay-2"]
    assert len(listed(engineer.get(url, {"environment": "prod"}))) == 3
    assert len(listed(engineer.get(url, {"health_status": "failing"}))) == 3
    assert listed(engineer.get(url, {"namespace": "team-1", "cluster": dev.pk})) == ["svc-1"]
    secret = "arn:aws:secretsmanager:us-west-2:287796791794:secret:svc-2/db-AbCdEf"
    assert listed(engineer.get(url, {"secret": secret})) == ["svc-2"]
    assert listed(engineer.get(url, {"secret": "pay-1/db"})) == ["pay-1"]
    assert listed(engineer.get(url, {"q": "pay-2"})) == ["pay-2"]


@pytest.mark.parametrize(
    "hostile",
    [
        "'; DROP TABLE secrets_app_binding; --",
        "<script>alert(1)</script>",
        "%",
        "_",
        "\\",
        "x" * 5000,
    ],
)
def test_hostile_search_and_filters_are_harmless(engineer, hostile):
    make_bindings(ClusterFactory(), 2)
    url = reverse("binding-list")
    for params in (
        {"q": hostile},
        {"secret": hostile},
        {"namespace": hostile},
        {"cluster": hostile},
    ):
        response = engineer.get(url, params)
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert Binding.objects.count() == 2


def test_csv_export_follows_the_filters_and_defuses_formulas(engineer):
    cluster = ClusterFactory()
    make_bindings(cluster, 3)
    Binding.objects.filter(service="svc-0").update(service="=HYPERLINK(1)")
    response = engineer.get(reverse("binding-export"), {"namespace": "team-0"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "cluster" and len(rows) == 2
    assert rows[1][3] == "'=HYPERLINK(1)"
    assert rows[1][-1].endswith("/db-AbCdEf")


def test_the_list_costs_the_same_queries_for_ten_thousand_bindings(
    engineer, django_assert_max_num_queries
):
    cluster = ClusterFactory()
    make_bindings(cluster, 20)
    for i in range(7):  # every namespace owned: the Team column shows a name on each row
        NamespaceFactory(cluster=cluster, name=f"team-{i}", team=TeamFactory(name=f"owners-{i}"))
    with django_assert_max_num_queries(6) as small:
        engineer.get(reverse("binding-list"))
    make_bindings(cluster, 10_000, prefix="bulk")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = engineer.get(reverse("binding-list"), {"sort": "-service", "page": 3})
    assert response.status_code == 200


def test_requester_or_owner_filter(engineer, requester, other_user):
    from tests.factories import AccessRequestFactory

    dev = ClusterFactory(name="dev")
    asked, adopted, theirs = make_bindings(dev, 3)
    asked.request = AccessRequestFactory(cluster=dev, requester=requester, state="active")
    asked.save()
    adopted.owner = requester  # imported: an owner, no request
    adopted.save()
    theirs.owner = other_user
    theirs.save()
    url = reverse("binding-list")
    mine = listed(engineer.get(url, {"requester": requester.username}))
    assert sorted(mine) == sorted([asked.service, adopted.service])
    hostile = engineer.get(url, {"requester": "<script>"})
    assert hostile.status_code == 200 and listed(hostile) == []


def test_the_team_filter_is_the_team_that_owns_the_namespace(engineer, other_user):
    dev, prod = ClusterFactory(name="dev"), ClusterFactory(name="prod")
    make_bindings(dev, 8)  # namespaces team-0 .. team-6
    make_bindings(prod, 2, prefix="pay")  # team-0, team-1 of prod
    payments = TeamFactory(name="payments")
    payments.user_set.add(other_user)
    NamespaceFactory(cluster=dev, name="team-1", team=payments)
    NamespaceFactory(cluster=prod, name="team-0", team=payments)
    NamespaceFactory(cluster=dev, name="team-2", team=TeamFactory(name="shop"))
    # A member of payments owning a binding elsewhere does not make it theirs.
    Binding.objects.filter(service="svc-3").update(owner=other_user)
    url = reverse("binding-list")
    assert sorted(listed(engineer.get(url, {"team": "payments"}))) == ["pay-0", "svc-1"]
    assert listed(engineer.get(url, {"team": " shop "})) == ["svc-2"]
    assert listed(engineer.get(url, {"team": "no-such-team"})) == []
    hostile = engineer.get(url, {"team": "%' OR 1=1 --"})
    assert hostile.status_code == 200 and listed(hostile) == []
    # The column shows each binding's owning team, none for unowned namespaces.
    page = engineer.get(url, {"cluster": dev.pk})
    teams = {
        row.record.service: row.record.team_name for row in page.context["table"].page.object_list
    }
    assert teams["svc-1"] == "payments" and teams["svc-2"] == "shop" and teams["svc-0"] is None
    assert ">Team<" in page.content.decode()
    by_team = engineer.get(url, {"sort": "team"})
    assert by_team.status_code == 200


def test_the_csv_names_the_owning_team(engineer):
    cluster = ClusterFactory()
    make_bindings(cluster, 2)
    NamespaceFactory(cluster=cluster, name="team-1", team=TeamFactory(name="payments"))
    response = engineer.get(reverse("binding-export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    team = rows[0].index("team")
    assert {r[3]: r[team] for r in rows[1:]} == {"svc-0": "", "svc-1": "payments"}
