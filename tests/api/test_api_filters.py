"""One name for each filter on the pages and in the API, and unknown query
parameters refused with a 400 that names them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.factories import binding_with_health
from tests.factories import AccessRequestFactory, BindingFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


@pytest.fixture
def two(cluster, prod_cluster):
    return {
        "healthy": binding_with_health(cluster=cluster, service="orders", statuses=("healthy",)),
        "failing": binding_with_health(
            cluster=prod_cluster, service="billing", statuses=("failing",)
        ),
    }


def test_the_page_and_the_api_share_the_binding_filter_names(as_requester, client, requester):
    from secrets_app.api.filters import BindingAPIFilter, RequestAPIFilter
    from secrets_app.web.filters import BindingFilter, RequestFilter

    assert set(BindingFilter.base_filters) <= set(BindingAPIFilter.base_filters)
    assert set(RequestFilter.base_filters) <= set(RequestAPIFilter.base_filters)
    # The API's only extras: whose requests, and the old name of health_status.
    assert set(BindingAPIFilter.base_filters) - set(BindingFilter.base_filters) == {"health"}
    assert set(RequestAPIFilter.base_filters) - set(RequestFilter.base_filters) == {
        "all",
        "requester",
    }


def test_health_status_and_its_old_alias(as_requester, client, requester, two):
    failing = [two["failing"].pk]
    assert ids(as_requester.get("/api/bindings/?health_status=failing")) == failing
    assert ids(as_requester.get("/api/bindings/?health=failing")) == failing
    client.force_login(requester)
    page = client.get(reverse("binding-list"), {"health_status": "failing"})
    assert [b.pk for b in page.context["table"].data] == failing


def test_cluster_by_name_or_id_on_the_page_and_in_the_api(
    as_requester, client, requester, prod_cluster, two
):
    failing = [two["failing"].pk]
    for value in ("janus-prod", str(prod_cluster.pk)):
        assert ids(as_requester.get(f"/api/bindings/?cluster={value}")) == failing
        client.force_login(requester)
        page = client.get(reverse("binding-list"), {"cluster": value})
        assert [b.pk for b in page.context["table"].data] == failing
    unknown = as_requester.get("/api/bindings/?cluster=nowhere")
    assert unknown.status_code == 400
    assert unknown.json() == {"cluster": ["No cluster has the name or id nowhere."]}


def test_page_only_filters_now_work_in_the_api(as_requester, two):
    assert ids(as_requester.get("/api/bindings/?q=billing")) == [two["failing"].pk]
    assert ids(as_requester.get("/api/bindings/?environment=prod")) == [two["failing"].pk]
    assert ids(as_requester.get("/api/bindings/?standing=active")) == sorted(
        b.pk for b in two.values()
    )


def test_request_filters_share_names(as_requester, requester, prod_cluster):
    mine = AccessRequestFactory(requester=requester, cluster=prod_cluster, service="billing")
    AccessRequestFactory(requester=requester, service="orders")
    assert ids(as_requester.get("/api/requests/?cluster=janus-prod")) == [mine.pk]
    assert ids(as_requester.get(f"/api/requests/?cluster={prod_cluster.pk}")) == [mine.pk]
    assert ids(as_requester.get("/api/requests/?q=bill")) == [mine.pk]


@pytest.mark.parametrize(
    "url",
    [
        "/api/bindings/?helth=failing",
        "/api/bindings/?health_status=failing&sort=name&zzz=1",
        "/api/requests/?mine=true",
        "/api/clusters/?name=janus-dev",
    ],
)
def test_unknown_query_parameters_are_a_400_naming_them(as_requester, cluster, url):
    response = as_requester.get(url)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_parameters"
    query = url.split("?", 1)[1]
    known = ("health_status",)
    for name in (pair.split("=")[0] for pair in query.split("&")):
        assert (name in body["detail"]) is True
        if name not in known:
            assert f": {name}" in body["detail"] or f", {name}" in body["detail"]


def test_pagination_and_format_are_always_read(as_requester, two):
    assert as_requester.get("/api/bindings/?page=1&page_size=1&format=json").status_code == 200
    binding = two["healthy"]
    assert as_requester.get(f"/api/bindings/{binding.pk}/?format=json").status_code == 200
    refused = as_requester.get(f"/api/bindings/{binding.pk}/?health_status=failing")
    assert refused.status_code == 400 and "health_status" in refused.json()["detail"]


def test_unknown_paths_stay_404_with_parameters(as_requester):
    assert as_requester.get("/api/nothing/here/?x=1").status_code == 404


def test_revoked_bindings_are_listed_by_state(as_requester, cluster):
    revoked = BindingFactory(cluster=cluster, service="old", state="revoked")
    assert ids(as_requester.get("/api/bindings/?state=revoked")) == [revoked.pk]
