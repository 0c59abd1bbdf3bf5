"""Sending one notification: one attempt, recorded on its row.

The row is locked while it is sent (``skip_locked``: a second copy of the
task skips it instead of sending twice), and a row no longer pending is left
alone, so the task may be enqueued any number of times. ``attempts`` on the
row, not the task's retry count, bounds the tries: the resend schedule and
the admin's resend start new tasks for the same row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secrets_app.events import bus
from secrets_app.integrations.errors import IntegrationError, PermanentError, RetryableError
from secrets_app.integrations.repos import RetryPolicy
from secrets_app.models import Notification

from .channels import deliver
from .store import RECORDED

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    state: str  # "sent", "pending" (will retry), "failed" or "skipped"
    retry_in: float | None = None


def retry_policy() -> RetryPolicy:
    return RetryPolicy(
        base=settings.NOTIFY_RETRY_BASE,
        cap=settings.NOTIFY_RETRY_CAP,
        max_attempts=settings.NOTIFY_MAX_ATTEMPTS,
    )


def notification_send(notification_id: int) -> SendOutcome:
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, state=Notification.State.PENDING)
            .first()
        )
        if notification is None:
            return SendOutcome("skipped")
        notification.attempts += 1
        try:
            deliver(notification)
        except IntegrationError as error:
            outcome = _failed_attempt(notification, error)
        except Exception as error:
            # A bug or an unexpected library error: retrying will not help,
            # but the row must say what happened.
            log.exception(
                "notification %s (%s) could not be sent", notification.pk, notification.key
            )
            outcome = _failed_attempt(
                notification, PermanentError(f"{type(error).__name__}: {error}")
            )
        else:
            notification.state = Notification.State.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
            outcome = SendOutcome("sent")
        notification.save(update_fields=["state", "attempts", "last_error", "sent_at"])
    return outcome


def _failed_attempt(notification: Notification, error: IntegrationError) -> SendOutcome:
    notification.last_error = str(error)[:2000]
    policy = retry_policy()
    if isinstance(error, RetryableError) and notification.attempts < policy.max_attempts:
        delay = policy.delay(notification.attempts, error)
        log.warning(
            "notification %s (%s by %s) failed, attempt %s of %s, retrying in %.1fs: %s",
            notification.pk,
            notification.event,
            notification.channel,
            notification.attempts,
            policy.max_attempts,
            delay,
            error,
        )
        return SendOutcome("pending", retry_in=delay)
    notification.state = Notification.State.FAILED
    log.error(
        "notification %s (%s by %s) failed for good after %s attempt(s): %s",
        notification.pk,
        notification.event,
        notification.channel,
        notification.attempts,
        error,
    )
    return SendOutcome("failed")


def notifications_resend(ids: list[int]) -> int:
    """Send failed notifications again with a fresh set of attempts (the
    admin's action). Returns how many were queued."""
    with transaction.atomic():
        chosen = list(
            Notification.objects.select_for_update()
            .filter(pk__in=ids, state=Notification.State.FAILED)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=chosen).update(
            state=Notification.State.PENDING, attempts=0
        )
        if chosen:
            bus.publish(RECORDED, chosen)
    return len(chosen)
