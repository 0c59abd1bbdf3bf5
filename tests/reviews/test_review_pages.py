"""The review pages: the list, one review at a constant number of queries
whatever its size, and the CSV for auditors."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from secrets_app.models import ReviewItem
from secrets_app.reviews import decisions
from secrets_app.reviews.opening import open_access_review
from tests.factories import BindingFactory, BindingSecretFactory, UserFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_review_page_costs_the_same_queries_for_many_bindings(world):
    review = open_access_review()
    alice = client_for(world["alice"])
    admin = client_for(UserFactory(username="root", is_staff=True))
    few = (_queries(alice, review.get_absolute_url()), _queries(admin, review.get_absolute_url()))
    for n in range(40):
        b = BindingFactory(cluster=world["cluster"], namespace=("deploy", "web")[n % 2])
        BindingSecretFactory(binding=b)
        ReviewItem.objects.create(
            review=review, binding=b, team_name=("team-deploy", "team-web")[n % 2], secrets=["x"]
        )
    ReviewItem.objects.filter(team_name="team-deploy", team__isnull=True).update(
        team=review.items.get(binding__service="billing").team
    )
    decisions.decide(
        review_id=review.pk,
        item_id=review.items.get(binding__service="billing").pk,
        user=world["alice"],
        decision="confirm",
    )
    many = (_queries(alice, review.get_absolute_url()), _queries(admin, review.get_absolute_url()))
    assert many == few
    assert _queries(alice, "/reviews/") == _queries(admin, "/reviews/")


def test_the_list_shows_the_open_review_and_every_page_needs_a_login(world, client):
    review = open_access_review()
    page = client_for(world["bob"]).get("/reviews/").content.decode()
    assert f"#{review.pk}" in page and "4 bindings, 4 to confirm" in page
    for url in ("/reviews/", review.get_absolute_url(), f"/reviews/{review.pk}/export.csv"):
        assert client.get(url).status_code == 302  # to the login page
    assert client_for(world["bob"]).get("/reviews/999999/").status_code == 404


def test_the_csv_says_who_decided_what_when(world):
    review = open_access_review()
    billing = review.items.get(binding__service="billing")
    ledger = review.items.get(binding__service="ledger")
    decisions.decide(
        review_id=review.pk, item_id=billing.pk, user=world["alice"], decision="confirm"
    )
    decisions.decide(review_id=review.pk, item_id=ledger.pk, user=world["alice"], decision="revoke")
    # A team name a spreadsheet would run as a formula is defused.
    review.items.filter(binding__service="cart").update(team_name="=HYPERLINK(1)")
    response = client_for(world["bob"]).get(f"/reviews/{review.pk}/export.csv")
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4
    by_service = {r["service_account"].removesuffix("-secrets"): r for r in rows}
    billing.refresh_from_db()
    ledger.refresh_from_db()
    assert by_service["billing"] == {
        "binding": str(billing.binding_id),
        "cluster": "janus-dev",
        "namespace": "deploy",
        "service_account": "billing-secrets",
        "team": "team-deploy",
        "secrets": "billing-db",
        "decision": "confirmed",
        "decided_by": "alice",
        "decided_at": billing.decided_at.isoformat(),
        "revocation_request": "",
    }
    assert by_service["ledger"]["decision"] == "revoked"
    assert by_service["ledger"]["revocation_request"] == str(ledger.revocation_id)
    assert by_service["shop"]["decision"] == "pending" and by_service["shop"]["decided_by"] == ""
    assert by_service["cart"]["team"] == "'=HYPERLINK(1)"
