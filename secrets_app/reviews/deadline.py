"""The deadline of a review: every binding its team did not confirm (nor
revoke) gets a revocation request in the portal's name, approved like any
other, as the expiry job does for expired bindings. Each item leaves
"pending" when acted on, so a job that runs again files nothing twice; the
review then closes with its outcome in the audit log."""

from __future__ import annotations

import datetime
import logging
from collections import Counter

from django.db import transaction
from django.utils import timezone

from secrets_app.accounts.system import system_user
from secrets_app.events.audit import audit_record
from secrets_app.models import AccessReview, BindingState, ReviewDecision, ReviewItem
from secrets_app.requests import revocation
from secrets_app.requests.states import WorkflowError

log = logging.getLogger(__name__)


def close_due_reviews(now: datetime.datetime | None = None) -> list[AccessReview]:
    now = now or timezone.now()
    closed = []
    for review in AccessReview.objects.filter(is_open=True, deadline__lte=now):
        asker = system_user()
        for item_id in review.items.filter(decision=ReviewDecision.PENDING).values_list(
            "pk", flat=True
        ):
            _revoke_unconfirmed(item_id, asker, now)
        closed.append(_close(review.pk, asker, now))
    return closed


def _revoke_unconfirmed(item_id: int, asker, now: datetime.datetime) -> None:
    with transaction.atomic():
        item = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("binding", "review")
            .get(pk=item_id)
        )
        if item.decision != ReviewDecision.PENDING:
            return  # answered, or acted on by a run before this one
        item.decided_by, item.decided_at = asker, now
        if item.binding.state != BindingState.ACTIVE:
            item.decision, item.note = ReviewDecision.GONE, "No longer active at the deadline."
        else:
            try:
                with transaction.atomic():
                    item.revocation = revocation.request_revocation(
                        binding_id=item.binding_id,
                        requester=asker,
                        reason=(
                            f"Not confirmed in {item.review} by its deadline "
                            f"({item.review.deadline:%Y-%m-%d})."
                        ),
                        by_portal=True,
                    )
            except WorkflowError as refused:
                # Another revocation already open, or files that cannot be
                # named: recorded on the item; the platform team follows up.
                log.warning("review: binding %s not revoked: %s", item.binding_id, refused.message)
                item.note = refused.message[:500]
            item.decision = ReviewDecision.UNCONFIRMED
        item.save(update_fields=["decision", "decided_by", "decided_at", "note", "revocation"])
        audit_record(
            actor=asker,
            action="review.unconfirmed",
            obj=item.binding,
            request=item.revocation,
            after={"review": item.review_id, "decision": item.decision},
            message=item.note,
        )


def _close(review_id: int, asker, now: datetime.datetime) -> AccessReview:
    with transaction.atomic():
        review = AccessReview.objects.select_for_update().get(pk=review_id)
        if not review.is_open:
            return review
        counts = Counter(review.items.values_list("decision", flat=True))
        review.outcome = {d.value: counts.get(d.value, 0) for d in ReviewDecision}
        review.is_open, review.closed_at = False, now
        review.save(update_fields=["outcome", "is_open", "closed_at"])
        audit_record(
            actor=asker,
            action="review.closed",
            obj=review,
            after=review.outcome,
            message=", ".join(f"{n} {d}" for d, n in review.outcome.items() if n),
        )
    return review
