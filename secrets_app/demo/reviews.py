"""The demo's access review in progress: opened ten days ago, due in four;
quinn (team-payments) has confirmed payments-api, the rest waits for its
teams (alice's team-data among them)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from secrets_app.models import AccessReview, ReviewItem
from secrets_app.reviews.decisions import CONFIRM, decide
from secrets_app.reviews.opening import open_access_review

OPENED_DAYS_AGO = 10
CONFIRMED = ("payments-api", "quinn")


def seed_review() -> AccessReview | None:
    review = open_access_review(
        now=timezone.now() - datetime.timedelta(days=OPENED_DAYS_AGO), force=True
    )
    if review is None:  # one is open already (the demo restarted with --keep)
        return None
    service, username = CONFIRMED
    item = ReviewItem.objects.filter(review=review, binding__service=service).first()
    if item is not None:
        user = get_user_model().objects.get(username=username)
        decide(review_id=review.pk, item_id=item.pk, user=user, decision=CONFIRM)
    return review
