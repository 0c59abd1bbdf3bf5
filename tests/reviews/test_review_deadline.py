"""Before the deadline each team with bindings still to confirm is reminded,
once per reminder day; at the deadline every binding not confirmed gets a
revocation request in the portal's name, exactly once, and the review closes
with its outcome in the audit log."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from secrets_app.accounts.system import SYSTEM_USERNAME
from secrets_app.models import (
    AccessRequest,
    AccessReview,
    AuditEvent,
    BindingState,
    Notification,
    RequestKind,
    RequestState,
    ReviewDecision,
)
from secrets_app.requests import revocation
from secrets_app.reviews import decisions, reminders
from secrets_app.reviews.opening import open_access_review
from secrets_app.tasks.reviews import run_access_reviews

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 10, 1, 8, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def review(world):
    with time_machine.travel(NOW, tick=False):
        return open_access_review()


def _answer(world, review, service, decision):
    item = review.items.get(binding__service=service)
    user = world["alice"] if item.binding.namespace == "deploy" else world["bob"]
    return decisions.decide(review_id=review.pk, item_id=item.pk, user=user, decision=decision)


def _reminder_keys():
    return sorted(
        Notification.objects.filter(event="review.reminder", channel="email").values_list(
            "key", flat=True
        )
    )


def test_reminders_go_once_per_team_and_day_to_those_with_work_left(world, review, settings):
    settings.PORTAL_REVIEW_REMINDER_DAYS = [7, 1]
    _answer(world, review, "shop", "confirm")
    _answer(world, review, "cart", "confirm")  # team-web is done
    with time_machine.travel(NOW + 6 * DAY, tick=False):  # 8 days left
        assert reminders.send_reminders() == 0
    for hour in (0, 5):
        with time_machine.travel(NOW + 7 * DAY + hour * datetime.timedelta(hours=1), tick=False):
            run_access_reviews.apply().get()
    team = review.items.get(binding__service="billing").team_id
    assert _reminder_keys() == [f"review.reminder:{review.pk}:{team}:7d:email"]
    mail = Notification.objects.get(event="review.reminder")
    assert mail.recipients == ["alice@example.com"]
    assert "2 bindings" in mail.subject and "deploy/billing-secrets" in mail.body
    with time_machine.travel(NOW + 13 * DAY + datetime.timedelta(hours=1), tick=False):
        run_access_reviews.apply().get()
        run_access_reviews.apply().get()
    assert _reminder_keys() == [
        f"review.reminder:{review.pk}:{team}:1d:email",
        f"review.reminder:{review.pk}:{team}:7d:email",
    ]


def test_the_deadline_files_revocations_for_the_unconfirmed_exactly_once(world, review):
    _answer(world, review, "billing", "confirm")
    revoked = _answer(world, review, "shop", "revoke")
    # cart: its owner asked to revoke it by hand before the deadline.
    cart = review.items.get(binding__service="cart")
    by_hand = revocation.request_revocation(
        binding_id=cart.binding_id, requester=world["bob"], reason="gone", by_portal=True
    )
    with time_machine.travel(NOW + 13 * DAY, tick=False):
        assert run_access_reviews.apply().get()["closed"] == 0
    with time_machine.travel(NOW + 14 * DAY, tick=False):
        assert run_access_reviews.apply().get()["closed"] == 1
        assert run_access_reviews.apply().get()["closed"] == 0

    portal = AccessRequest.objects.filter(
        kind=RequestKind.REVOKE, requester__username=SYSTEM_USERNAME
    )
    ledger = review.items.get(binding__service="ledger")
    assert list(portal.values_list("revokes_id", flat=True)) == [ledger.binding_id]
    asked = portal.get()
    assert asked.state == RequestState.PENDING and "Not confirmed" in asked.justification
    assert ledger.decision == ReviewDecision.UNCONFIRMED and ledger.revocation == asked
    cart.refresh_from_db()
    assert cart.decision == ReviewDecision.UNCONFIRMED and "already open" in cart.note
    assert cart.revocation is None and by_hand.state == RequestState.PENDING
    # The team's own revocation stands, not filed twice.
    assert AccessRequest.objects.filter(revokes_id=revoked.binding_id).count() == 1

    review.refresh_from_db()
    assert not review.is_open and review.closed_at == NOW + 14 * DAY
    assert review.outcome["confirmed"] == 1 and review.outcome["revoked"] == 1
    assert review.outcome["unconfirmed"] == 2 and review.outcome["pending"] == 0
    closed = AuditEvent.objects.get(action="review.closed")
    assert closed.after == review.outcome and closed.actor_name == SYSTEM_USERNAME
    assert AuditEvent.objects.filter(action="review.unconfirmed").count() == 2
    # A new review is not due for another quarter, and none is open now.
    assert not AccessReview.objects.filter(is_open=True).exists()


def test_a_binding_gone_by_the_deadline_is_not_revoked_again(world, review):
    shop = review.items.get(binding__service="shop")
    shop.binding.state = BindingState.REVOKED
    shop.binding.save()
    for service in ("billing", "ledger", "cart"):
        _answer(world, review, service, "confirm")
    with time_machine.travel(NOW + 15 * DAY, tick=False):
        run_access_reviews.apply().get()
    shop.refresh_from_db()
    assert shop.decision == ReviewDecision.GONE
    assert not AccessRequest.objects.filter(kind=RequestKind.REVOKE).exists()
