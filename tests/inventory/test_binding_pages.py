"""The bindings list's pages (``DeferredJoinPaginator``): for every sort,
every filter, the first, middle and last pages, an empty result and page
numbers out of range, the page shows the rows the plain queryset's slice
(``LIMIT 25 OFFSET n`` over the same ordering, ties by id) shows, as
django-tables2's own paginator pages it; and its select list's subqueries
run for the page's rows only."""

import datetime
import json

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tables2 import RequestConfig

from secrets_app.health.status import HealthStatus
from secrets_app.models import Binding, BindingSecret
from secrets_app.web.filters import BindingFilter
from secrets_app.web.tables import BindingTable, secret_access_url
from secrets_app.web.views.bindings import BindingListView
from tests.factories import (
    BindingFactory,
    ClusterFactory,
    NamespaceFactory,
    TeamFactory,
    UserFactory,
)
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

PER_PAGE = 25
LIVE = 84  # + 6 revoked twins: 90 rows, four pages (25, 25, 25, 15)
HEALTHS = list(HealthStatus.values)


@pytest.fixture
def inventory(requester):
    """Bindings that tie on every sortable column but the id: services,
    sources, states, health and drift repeat, some namespaces have no team,
    and revoked twins share a live binding's cluster/namespace/ServiceAccount
    (the default order's three keys)."""
    clusters = [
        ClusterFactory(name="alpha"),
        ClusterFactory(name="beta", environment="prod"),
        ClusterFactory(name="gamma"),
    ]
    for cluster in clusters[:2]:
        NamespaceFactory(cluster=cluster, name="ns-0", team=TeamFactory(name="blue"))
        NamespaceFactory(cluster=cluster, name="ns-1", team=TeamFactory(name="red"))
    owner = UserFactory(username="owner-1")
    now = timezone.now()
    long_ago = now - datetime.timedelta(days=90)
    rows = []
    for i in range(LIVE):
        state = "revoking" if i % 11 == 0 else "active"
        rows.append(
            BindingFactory.build(
                cluster=clusters[i % 3],
                namespace=f"ns-{i % 4}",
                service=f"svc-{i % 10}",
                service_account=f"sa-{i}",
                source="imported" if i % 2 else "portal",
                state=state,
                removal_merged_at=now if state == "revoking" and i % 2 else None,
                health_status=HEALTHS[i % len(HEALTHS)],
                health_checked_at=now if i % 5 else None,
                verification_ok=[True, False, None][i % 3],
                has_drift=[True, False, None][i % 3],
                stale_since=now if i % 7 == 0 else None,
                last_mounted_at=long_ago if i % 4 == 0 else now,
                owner=owner if i % 9 == 0 else None,
            )
        )
    for i in range(6):
        twin = rows[i * 7]
        rows.append(
            BindingFactory.build(
                cluster=twin.cluster,
                namespace=twin.namespace,
                service=twin.service,
                service_account=twin.service_account,
                state="revoked",
                health_status="unknown",
            )
        )
    bindings = Binding.objects.bulk_create(rows)
    BindingSecret.objects.bulk_create(
        BindingSecret(
            binding=b,
            arn=f"arn:aws:secretsmanager:us-west-2:287796791794:secret:{b.service}-{n}-AbCdEf",
            name=f"{b.service}-{n}",
            alias=f"file-{n}",
        )
        for i, b in enumerate(bindings)
        for n in range(i % 3)  # none, one or two secrets
    )
    return bindings


@pytest.fixture
def engineer(requester):
    return client_for(requester)


def shown(client, params: dict) -> tuple[list[int], int, int, int]:
    """The page's binding ids, its number, the number of pages, the count."""
    response = client.get(reverse("binding-list"), params)
    assert response.status_code == 200
    table = response.context["table"]
    ids = [row.record.pk for row in table.page.object_list]
    return ids, table.page.number, table.paginator.num_pages, table.paginator.count


def expected(params: dict) -> tuple[list[int], int, int, int]:
    """The same page by django-tables2's own paginator, which slices the
    queryset (``LIMIT``/``OFFSET``), over the same ordering ended by the id."""
    request = RequestFactory().get("/bindings/", params)
    queryset = BindingFilter(request.GET, queryset=BindingListView().get_queryset()).qs
    table = BindingTable(queryset)
    RequestConfig(request, paginate=False).configure(table)  # the sort, if any
    data = table.data.data
    table.data.data = data.order_by(*(data.query.order_by or Binding._meta.ordering), "pk")
    unsorted = {k: v for k, v in params.items() if k != "sort"}
    RequestConfig(
        RequestFactory().get("/bindings/", unsorted), paginate={"per_page": PER_PAGE}
    ).configure(table)
    ids = [row.record.pk for row in table.page.object_list]
    return ids, table.page.number, table.paginator.num_pages, table.paginator.count


SORTS = [
    "service",
    "cluster",
    "namespace",
    "team",
    "service_account",
    "source",
    "state",
    "health_status",
    "has_drift",
]


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{s}" for s in SORTS)])
def test_every_sort_pages_as_the_plain_slice(engineer, inventory, sort):
    seen = []
    for page in (1, 2, 3, 4):
        ids, number, pages, count = shown(engineer, {"sort": sort, "page": page})
        assert (ids, number, pages, count) == expected({"sort": sort, "page": page})
        assert number == page and pages == 4 and count == len(inventory)
        seen += ids
    # Every row exactly once across the pages: the order is total.
    assert sorted(seen) == sorted(b.pk for b in inventory)


def test_default_order_pages_as_the_plain_slice(engineer, inventory):
    for page in (1, 2, 3, 4):
        assert shown(engineer, {"page": page}) == expected({"page": page})
    ids, *_ = shown(engineer, {"page": 4})
    assert len(ids) == len(inventory) - 3 * PER_PAGE


@pytest.mark.parametrize("page", ["99", "5", "0", "-1", "x", ""])
def test_a_page_out_of_range_is_what_django_tables2_shows(engineer, inventory, page):
    # Past the end (or below 1): the last page; not a number: the first.
    got = shown(engineer, {"sort": "-source", "page": page})
    assert got == expected({"sort": "-source", "page": page})
    assert got[1] == (1 if page in ("x", "") else 4)


def test_an_empty_result(engineer, inventory):
    for params in ({"namespace": "nowhere"}, {"namespace": "nowhere", "page": 3}):
        assert shown(engineer, params) == ([], 1, 1, 0) == expected(params)
    response = engineer.get(reverse("binding-list"), {"namespace": "nowhere"})
    assert "No bindings match." in response.content.decode()


def filters(bindings) -> list[dict]:
    """One value of every filter of the list that matches some rows."""
    alpha = bindings[0].cluster
    return [
        {"q": "svc-3"},
        {"q": "svc-4-1"},  # a secret's name
        {"cluster": str(alpha.pk)},
        {"cluster": "beta"},
        {"environment": "dev"},
        {"namespace": "ns-1"},
        {"service": "svc-1"},
        {"secret": "svc-2-1"},
        {"requester": "owner-1"},
        {"team": "blue"},
        {"state": "revoking"},
        {"state": "active"},
        {"standing": "working"},
        {"standing": "active"},
        {"standing": "confirming"},
        {"health_status": "healthy"},
        {"source": "imported"},
        {"drift": "yes"},
        {"drift": "unchecked"},
        {"versions": "stale"},
        {"versions": "current"},
        {"usage": "unused"},
        {"usage": "used"},
        {"environment": "dev", "state": "active", "sort": "-team"},
        {"source": "portal", "sort": "health_status"},
    ]


def test_every_filter_pages_as_the_plain_slice(engineer, inventory):
    for params in filters(inventory):
        first = expected({**params, "page": 1})
        assert first[3] > 0, params  # the filter matches something
        last = first[2]
        for page in sorted({1, 2, last, last + 1}):
            query = {**params, "page": page}
            assert shown(engineer, query) == expected(query), query


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def test_the_select_lists_subqueries_run_for_the_shown_rows_only(engineer, inventory):
    """Page 3 (OFFSET 50): the owning team, the secret count and the first
    secret are computed for 25 rows, not for the 75 an OFFSET query built."""
    with CaptureQueriesContext(connection) as queries:
        engineer.get(reverse("binding-list"), {"page": 3})
    page_sql = next(q["sql"] for q in queries if "OFFSET 50" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + page_sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    subplans = [n for n in _plan_nodes(plan[0]["Plan"]) if n.get("Subplan Name")]
    assert subplans, "the team, the count and the first secret are subqueries"
    assert max(n["Actual Loops"] for n in subplans) <= PER_PAGE


def queries_of(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("binding-list"), params)
    return len(queries)


def test_the_page_query_count_does_not_depend_on_the_page(engineer, inventory):
    pages = ({"page": 1}, {"page": 4}, {"page": 99}, {"page": 2, "sort": "-team"})
    counts = {queries_of(engineer, p) for p in pages}
    assert len(counts) == 1
    # No rows at all: the count says so, no page to fetch (as with
    # django-tables2's own paginator: slicing [0:0] runs no query).
    assert queries_of(engineer, {"namespace": "nowhere"}) == counts.pop() - 1


def test_rows_link_to_their_binding_and_first_secret(engineer, inventory):
    # (The paths are reversed once per table: web/tables.py url_by_pk.)
    html = engineer.get(reverse("binding-list"), {"page": 2}).content.decode()
    shown_ids, *_ = shown(engineer, {"page": 2})
    for binding in Binding.objects.filter(pk__in=shown_ids).prefetch_related("secrets"):
        assert f'<a href="{binding.get_absolute_url()}">{binding.service}</a>' in html
        first = min(binding.secrets.all(), key=lambda s: (s.alias, s.pk), default=None)
        if first:
            assert f'<a href="{secret_access_url(first.arn)}">{first.name}</a>' in html


def test_a_per_page_parameter_pages_the_same(engineer, inventory):
    # django-tables2 reads ?per_page= too: page 5 of 10-row pages.
    params = {"sort": "-health_status", "per_page": 10, "page": 5}
    response = engineer.get(reverse("binding-list"), params)
    table = response.context["table"]
    ids = [row.record.pk for row in table.page.object_list]
    request = RequestFactory().get("/bindings/", {"sort": "-health_status"})
    queryset = BindingFilter(request.GET, queryset=BindingListView().get_queryset()).qs
    table = BindingTable(queryset)
    RequestConfig(request, paginate=False).configure(table)
    data = table.data.data
    plain = list(data.order_by(*data.query.order_by, "pk").values_list("pk", flat=True)[40:50])
    assert ids == plain and len(ids) == 10
