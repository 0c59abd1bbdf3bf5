"""Opening an access review: one item per active binding, with its owning
team and secrets as they are now. One review is open at a time (a unique
constraint holds it even against two schedulers at once)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from secrets_app.accounts.system import system_user
from secrets_app.events.audit import audit_record
from secrets_app.models import AccessReview, Binding, BindingState, Namespace, ReviewItem


def open_review() -> AccessReview | None:
    return AccessReview.objects.filter(is_open=True).first()


def is_due(now: datetime.datetime) -> bool:
    """No review open, and the last one opened an interval ago (or never)."""
    if open_review() is not None:
        return False
    last = AccessReview.objects.order_by("-opened_at").values_list("opened_at", flat=True).first()
    interval = datetime.timedelta(days=settings.PORTAL_REVIEW_INTERVAL_DAYS)
    return last is None or last + interval <= now


def open_access_review(
    *, now: datetime.datetime | None = None, actor=None, force: bool = False
) -> AccessReview | None:
    """Open a review if one is due (``force``: now, unless one is open).
    Returns the new review, or None when none was opened."""
    now = now or timezone.now()
    if open_review() is not None or not (force or is_due(now)):
        return None
    actor = actor or system_user()
    try:
        with transaction.atomic():
            review = AccessReview.objects.create(
                opened_at=now,
                deadline=now + datetime.timedelta(days=settings.PORTAL_REVIEW_DEADLINE_DAYS),
            )
            count = _add_items(review)
            audit_record(
                actor=actor,
                action="review.opened",
                obj=review,
                after={"bindings": count, "deadline": review.deadline.isoformat()},
                message=f"{count} bindings to confirm by {review.deadline:%Y-%m-%d %H:%M} UTC.",
            )
    except IntegrityError:
        return None  # another opened one at the same moment
    return review


def _add_items(review: AccessReview) -> int:
    """One item per active binding (3 queries, whatever their number)."""
    owner = Namespace.objects.filter(cluster_id=OuterRef("cluster_id"), name=OuterRef("namespace"))
    bindings = (
        Binding.objects.filter(state=BindingState.ACTIVE)
        .annotate(
            review_team_id=Subquery(owner.values("team_id")[:1]),
            review_team_name=Subquery(owner.values("team__name")[:1]),
        )
        .prefetch_related("secrets")
        .order_by("pk")
    )
    items = [
        ReviewItem(
            review=review,
            binding=b,
            team_id=b.review_team_id,
            team_name=b.review_team_name or "",
            secrets=sorted(s.name for s in b.secrets.all()),
        )
        for b in bindings
    ]
    ReviewItem.objects.bulk_create(items)
    return len(items)
