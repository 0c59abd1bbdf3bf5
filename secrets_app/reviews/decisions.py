"""A team's answer for one binding: keep it (confirm) or let it go (revoke,
which files a revocation request approved like any other). Each answer is
audited in the transaction that records it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from secrets_app.events.audit import audit_record
from secrets_app.models import ReviewDecision, ReviewItem
from secrets_app.requests import revocation
from secrets_app.requests.states import WorkflowError

from .permissions import can_decide

CONFIRM = "confirm"
REVOKE = "revoke"


def _item_to_decide(review_id: int, item_id: int, user) -> ReviewItem:
    try:
        item = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("review", "binding__cluster")
            .get(pk=item_id, review_id=review_id)
        )
    except ReviewItem.DoesNotExist:
        raise WorkflowError("This review item does not exist.", code="not_found") from None
    if not can_decide(user, item):
        raise WorkflowError(
            "Only members of the team that owns this binding's namespace, and admins, "
            "can answer for it.",
            code="forbidden",
        )
    if not item.review.is_open:
        raise WorkflowError("This review is closed.", code="wrong_state")
    if item.decision != ReviewDecision.PENDING:
        raise WorkflowError(
            f"This binding was already answered: {item.get_decision_display().lower()}.",
            code="duplicate",
        )
    return item


def decide(*, review_id: int, item_id: int, user, decision: str, note: str = "") -> ReviewItem:
    """Confirm or revoke one item. A WorkflowError says why not."""
    if decision not in (CONFIRM, REVOKE):
        raise WorkflowError("Answer confirm or revoke.", code="invalid")
    note = (note or "").strip()[:500]
    with transaction.atomic():
        item = _item_to_decide(review_id, item_id, user)
        item.decided_by, item.decided_at, item.note = user, timezone.now(), note
        if decision == CONFIRM:
            item.decision = ReviewDecision.CONFIRMED
        else:
            # The review gives the owning team the say over its bindings, so
            # the revocation is filed for them even where the binding's own
            # owner is someone else (permission was checked above).
            item.revocation = revocation.request_revocation(
                binding_id=item.binding_id,
                requester=user,
                reason=note or f"Not needed any more ({item.review}).",
                by_portal=True,
            )
            item.decision = ReviewDecision.REVOKED
        item.save(update_fields=["decision", "decided_by", "decided_at", "note", "revocation"])
        audit_record(
            actor=user,
            action=f"review.{item.decision}",
            obj=item.binding,
            request=item.revocation,
            after={"review": item.review_id, "decision": item.decision},
            message=note,
        )
    return item
