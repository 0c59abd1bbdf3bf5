"""Celery tasks that send notifications, resend those left pending, and
report bindings failing for too long. Thin: the work is in
``secrets_app.notifications``."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from secrets_app import notifications
from secrets_app.models import Notification

log = logging.getLogger(__name__)

#: A pending row never tried this long after it was recorded lost its task
#: (the broker was down when it was handed over).
RESEND_AFTER = datetime.timedelta(minutes=1)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def send_notification(self, notification_id: int) -> str:
    # max_retries=None: the row's attempts bound the tries (NOTIFY_MAX_ATTEMPTS).
    outcome = notifications.notification_send(notification_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


def enqueue_notifications(ids: list[int]) -> None:
    for notification_id in ids:
        try:
            send_notification.delay(notification_id)
        except Exception as error:  # the broker's errors vary by transport
            # The rows stay pending; resend_pending_notifications sends them
            # once the broker is back. The rest would fail the same way.
            log.warning("could not enqueue notifications %s: %s", ids, error)
            return


@shared_task
def resend_pending_notifications() -> int:
    """Pending notifications whose task never ran (never tried, recorded over
    a minute ago) or died (still pending after the longest retry schedule)
    are enqueued again. A copy that finds its row sent or locked skips it."""
    now = timezone.now()
    horizon = datetime.timedelta(
        seconds=settings.NOTIFY_MAX_ATTEMPTS * settings.NOTIFY_RETRY_CAP + 60
    )
    stuck = Notification.objects.filter(state=Notification.State.PENDING).filter(
        Q(attempts=0, created_at__lt=now - RESEND_AFTER) | Q(created_at__lt=now - horizon)
    )
    ids = list(stuck.order_by("created_at").values_list("pk", flat=True)[:1000])
    for notification_id in ids:
        send_notification.delay(notification_id)
    return len(ids)


@shared_task
def notify_failing_bindings() -> int:
    return notifications.notify_failing_bindings()
