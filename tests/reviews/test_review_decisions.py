"""Confirm and revoke: only the owning team's members (or admins) answer for
a binding, once, while the review is open; a revoke files a revocation
request approved like any other. Through the pages, as people use them."""

from __future__ import annotations

import pytest

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    RequestKind,
    RequestState,
    ReviewDecision,
)
from secrets_app.reviews.opening import open_access_review
from tests.factories import UserFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(world):
    return open_access_review()


def _item(review, service):
    return review.items.get(binding__service=service)


def _decide(user, review, item, decision):
    return client_for(user).post(
        f"/reviews/{review.pk}/items/{item.pk}/decide/", {"decision": decision}
    )


def test_a_team_member_confirms_and_revokes_their_bindings(world, review):
    alice = world["alice"]
    billing, ledger = _item(review, "billing"), _item(review, "ledger")
    assert _decide(alice, review, billing, "confirm").status_code == 302
    assert _decide(alice, review, ledger, "revoke").status_code == 302
    billing.refresh_from_db()
    ledger.refresh_from_db()
    assert billing.decision == ReviewDecision.CONFIRMED and billing.decided_by == alice
    assert ledger.decision == ReviewDecision.REVOKED
    revocation = ledger.revocation
    assert revocation.kind == RequestKind.REVOKE and revocation.revokes_id == ledger.binding_id
    assert revocation.state == RequestState.PENDING and revocation.requester == alice
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"review.confirmed", "review.revoked", "binding.revocation_requested"} <= actions
    # Answered once: a second answer is refused and changes nothing.
    assert _decide(alice, review, billing, "revoke").status_code == 409
    billing.refresh_from_db()
    assert billing.decision == ReviewDecision.CONFIRMED
    assert AccessRequest.objects.filter(kind=RequestKind.REVOKE).count() == 1


def test_another_team_cannot_answer_and_nobody_sees_the_buttons(world, review):
    bob = world["bob"]
    billing = _item(review, "billing")
    response = _decide(bob, review, billing, "revoke")
    assert response.status_code == 403
    assert "Only members of the team" in response.content.decode()
    stranger = UserFactory(username="mallory")
    assert _decide(stranger, review, billing, "confirm").status_code == 403
    billing.refresh_from_db()
    assert billing.decision == ReviewDecision.PENDING
    assert not AccessRequest.objects.filter(kind=RequestKind.REVOKE).exists()
    # The item of another review, under this review's address: not found.
    assert (
        client_for(world["alice"])
        .post(f"/reviews/{review.pk + 1}/items/{billing.pk}/decide/", {"decision": "confirm"})
        .status_code
        == 404
    )
    # A GET does nothing; a bad answer is refused.
    assert (
        client_for(world["alice"])
        .get(f"/reviews/{review.pk}/items/{billing.pk}/decide/")
        .status_code
        == 405
    )
    assert _decide(world["alice"], review, billing, "delete").status_code == 409


def test_the_page_lists_only_the_users_teams_work(world, review):
    page = client_for(world["bob"]).get(review.get_absolute_url()).content.decode()
    assert "team-web" in page and "shop-secrets" in page and "cart-secrets" in page
    assert "billing-secrets" not in page
    assert page.count('value="confirm"') == 2
    # Someone in no team has nothing to do, and sees every team's progress.
    nobody = client_for(UserFactory(username="nobody")).get(review.get_absolute_url())
    text = nobody.content.decode()
    assert "Nothing for you to confirm" in text and 'value="confirm"' not in text
    assert "team-deploy" in text and "team-web" in text
    # Admins answer for every team.
    admin = UserFactory(username="root", is_staff=True)
    page = client_for(admin).get(review.get_absolute_url()).content.decode()
    assert page.count('value="confirm"') == 4
    assert _decide(admin, review, _item(review, "shop"), "confirm").status_code == 302


def test_a_closed_review_takes_no_answers(world, review):
    review.is_open = False
    review.save()
    response = _decide(world["alice"], review, _item(review, "billing"), "confirm")
    assert response.status_code == 409 and "closed" in response.content.decode()
