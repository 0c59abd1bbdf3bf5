"""Lists, filters and detail reads; query counts that do not grow with rows."""

from __future__ import annotations

import pytest

from secrets_app.requests import workflow
from tests.api.factories import binding_with_health
from tests.factories import (
    AccessRequestFactory,
    BindingFactory,
    BindingSecretFactory,
    ClusterFactory,
    SecretGrantFactory,
)

pytestmark = pytest.mark.django_db

OTHER_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:billing-token-Zx81Qa"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return sorted(row["id"] for row in response.json()["results"])


@pytest.fixture
def requests_of_two(requester, other_user, cluster, prod_cluster):
    mine = AccessRequestFactory(requester=requester, cluster=cluster, service="billing")
    SecretGrantFactory(request=mine)
    mine_draft = AccessRequestFactory(requester=requester, cluster=prod_cluster, state="draft")
    theirs = AccessRequestFactory(requester=other_user, cluster=cluster)
    return mine, mine_draft, theirs


def test_requests_list_is_your_own_unless_all(as_requester, requests_of_two):
    mine, mine_draft, theirs = requests_of_two

    assert ids(as_requester.get("/api/requests/")) == sorted([mine.pk, mine_draft.pk])
    assert ids(as_requester.get("/api/requests/?all=true")) == sorted(
        [mine.pk, mine_draft.pk, theirs.pk]
    )
    assert ids(as_requester.get("/api/requests/?all=false")) == sorted([mine.pk, mine_draft.pk])


def test_requests_list_filters(as_requester, requests_of_two):
    mine, mine_draft, theirs = requests_of_two

    assert ids(as_requester.get("/api/requests/?state=draft")) == [mine_draft.pk]
    assert ids(as_requester.get("/api/requests/?cluster=janus-prod")) == [mine_draft.pk]
    assert ids(as_requester.get("/api/requests/?all=1&requester=mallory")) == [theirs.pk]
    assert ids(as_requester.get("/api/requests/?q=billing")) == [mine.pk]
    assert ids(as_requester.get("/api/requests/?q=dcp-db-password")) == [mine.pk]
    row = as_requester.get("/api/requests/?state=pending").json()["results"][0]
    assert row["secret_count"] == 1
    assert row["cluster"] == {"id": mine.cluster_id, "name": "janus-dev"}


def test_a_bad_filter_value_is_400(as_requester, requests_of_two):
    response = as_requester.get("/api/requests/?state=sleeping")

    assert response.status_code == 400
    assert "state" in response.json()


def test_request_detail_has_secrets_decisions_and_timeline(as_other, requester, approver, cluster):
    data = {
        "cluster": cluster,
        "service": "data-access-service",
        "namespace": "deploy",
        "workload_name": "data-access-service",
        "containers": ["app"],
        "service_account": "data-access-service-secrets",
        "mount_path": "/mnt/secrets-store",
        "justification": "Reads the password.",
        "secrets": [{"secret": OTHER_ARN, "alias": "billing-token"}],
    }
    req = workflow.request_create(requester=requester, **data)
    workflow.request_comment(request_id=req.pk, author=requester, body="Please.")
    workflow.request_approve(request_id=req.pk, approver=approver, comment="Fine.")

    # Anyone may follow any request, as on the pages.
    response = as_other.get(f"/api/requests/{req.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "approved"
    assert [s["alias"] for s in body["secrets"]] == ["billing-token"]
    assert body["decisions"][0]["approver"] == "pat"
    assert body["decisions"][0]["verdict"] == "approve"
    assert body["comments"][0]["body"] == "Please."
    assert [e["action"] for e in body["timeline"]] == [
        "request.created",
        "request.submitted",
        "request.commented",
        "request.approval_recorded",
        "request.approved",
    ]


def test_unknown_ids_are_404(as_requester, cluster):
    for url in ("/api/requests/424242/", "/api/bindings/424242/", "/api/clusters/424242/"):
        response = as_requester.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.fixture
def bindings(cluster, prod_cluster):
    healthy = binding_with_health(
        cluster=cluster, service="orders", statuses=("failing", "healthy")
    )
    failing = binding_with_health(cluster=prod_cluster, service="billing", statuses=("failing",))
    BindingSecretFactory(binding=failing, arn=OTHER_ARN, name="billing-token", alias="token")
    imported = BindingFactory(
        cluster=cluster, namespace="payments", service="ledger", source="imported"
    )
    revoked = BindingFactory(cluster=cluster, service="old", state="revoked")
    return {"healthy": healthy, "failing": failing, "imported": imported, "revoked": revoked}


@pytest.mark.parametrize(
    "query, names",
    [
        ("", ["healthy", "failing", "imported", "revoked"]),
        ("cluster=janus-prod", ["failing"]),
        ("namespace=payments", ["imported"]),
        ("service=orders", ["healthy"]),
        (f"secret={OTHER_ARN}", ["failing"]),
        ("secret=dcp-db-password", ["healthy", "failing"]),
        ("state=revoked", ["revoked"]),
        ("health=failing", ["failing"]),
        ("health=unknown", ["imported", "revoked"]),
        ("source=imported", ["imported"]),
        ("cluster=janus-dev&state=active&source=portal", ["healthy"]),
    ],
)
def test_binding_filters(as_requester, bindings, query, names):
    response = as_requester.get(f"/api/bindings/?{query}")

    assert ids(response) == sorted(bindings[n].pk for n in names)


def test_binding_filter_values_are_checked(as_requester, bindings):
    assert as_requester.get("/api/bindings/?health=sick").status_code == 400
    assert as_requester.get("/api/bindings/?source=elsewhere").status_code == 400


def test_binding_detail_has_secrets_and_latest_health(as_requester, bindings):
    healthy = bindings["healthy"]

    body = as_requester.get(f"/api/bindings/{healthy.pk}/").json()

    assert body["secrets"] == [
        {"arn": healthy.secrets.get().arn, "name": "dcp-db-password", "alias": "dcp-db-password"}
    ]
    assert body["health"]["status"] == "healthy"  # the later of the two snapshots
    assert body["health"]["pods_mounted"] == 2


def test_binding_health_endpoint(as_requester, anon, bindings):
    response = as_requester.get(f"/api/bindings/{bindings['failing'].pk}/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "failing"

    never_swept = as_requester.get(f"/api/bindings/{bindings['imported'].pk}/health/")
    assert never_swept.status_code == 404
    assert never_swept.json()["code"] == "no_snapshot"

    assert anon.get(f"/api/bindings/{bindings['failing'].pk}/health/").status_code == 401


def test_clusters_are_read_only(as_requester, cluster):
    listed = as_requester.get("/api/clusters/").json()["results"]
    assert [c["name"] for c in listed] == ["janus-dev"]
    assert as_requester.get(f"/api/clusters/{cluster.pk}/").json()["region"] == "us-west-2"
    assert as_requester.post("/api/clusters/", {"name": "x"}, format="json").status_code == 405
    assert as_requester.delete(f"/api/clusters/{cluster.pk}/").status_code == 405


@pytest.mark.parametrize(
    "url", ["/api/requests/", "/api/bindings/", "/api/clusters/", "/api/schema/"]
)
def test_reads_need_authentication(anon, url):
    response = anon.get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def _many_rows(start: int, n: int, requester) -> None:
    for i in range(start, start + n):
        c = ClusterFactory(name=f"cluster-{i:03d}")
        req = AccessRequestFactory(requester=requester, cluster=c)
        SecretGrantFactory(request=req)
        SecretGrantFactory(request=req, alias=f"other-{i}", sync_secret_name="", sync_keys=[])
        binding_with_health(cluster=c, statuses=("failing", "healthy"))


def _queries(client, url: str, django_assert_max_num_queries, limit: int) -> None:
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url, limit",
    [
        ("/api/requests/?all=true", 3),
        ("/api/bindings/", 5),
        ("/api/clusters/", 3),
    ],
)
def test_list_query_counts_do_not_grow(
    as_requester, requester, url, limit, django_assert_max_num_queries
):
    # Token lookup, count, page, and one query per prefetch: the same for 2 or 40 rows.
    _many_rows(0, 2, requester)
    _queries(as_requester, url, django_assert_max_num_queries, limit)
    _many_rows(2, 38, requester)
    _queries(as_requester, url, django_assert_max_num_queries, limit)
    assert as_requester.get(url).json()["count"] == 40


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/api/requests/abc/"),
        ("get", "/api/requests/1.5/"),
        ("post", "/api/requests/x/approve/"),
        ("get", "/api/clusters/-1/"),
        ("get", "/api/bindings/99999999999999999999999/"),
        ("post", "/api/requests/99999999999999999999999/cancel/"),
        ("get", "/api/nothing-here/"),
        ("post", "/api/nothing-here/"),
        ("get", "/api/bindings/7/health/extra/"),
    ],
)
def test_any_other_api_path_is_a_json_404(as_requester, anon, method, url):
    response = getattr(as_requester, method)(url, {}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert getattr(anon, method)(url).status_code == 401
