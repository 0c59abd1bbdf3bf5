"""Recording notifications and handing them to the sender.

A notification is a row first (``key`` unique, so an event or a reminder is
recorded once however often it is reported), and is sent afterwards by
whatever registered with ``on_recorded`` (the Celery task module), once the
row has committed. If nothing is registered or the hand-over fails, the row
stays pending and the resend schedule sends it later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import transaction

from secrets_app.models import Notification

from .messages import Message

log = logging.getLogger(__name__)

Sender = Callable[[list[int]], None]
_senders: list[Sender] = []


def on_recorded(sender: Sender) -> Sender:
    """Register ``sender(notification_ids)``, called after new rows commit."""
    if sender not in _senders:
        _senders.append(sender)
    return sender


def hand_over(ids: Sequence[int]) -> None:
    """Pass ids to the senders now; never raises (the rows stay pending)."""
    if not ids:
        return
    for sender in _senders:
        try:
            sender(list(ids))
        except Exception:
            log.exception("could not hand over notifications %s; they stay pending", list(ids))


def record(
    *, key: str, event: str, message: Message, emails: Sequence[str], slack: bool = True
) -> list[Notification]:
    """The email (to ``emails``, if any) and Slack (if configured) notifications
    of one message, keyed ``<key>:email`` and ``<key>:slack``. Rows recorded
    before under the same key are returned as they are and not sent again."""
    wanted: list[tuple[str, list[str]]] = []
    if emails:
        wanted.append((Notification.Channel.EMAIL, list(emails)))
    if slack and settings.SLACK_WEBHOOK_URL:
        wanted.append((Notification.Channel.SLACK, []))
    rows, new = [], []
    with transaction.atomic():
        for channel, recipients in wanted:
            row, created = Notification.objects.get_or_create(
                key=f"{key}:{channel}"[:255],
                defaults={
                    "event": event,
                    "channel": channel,
                    "recipients": recipients,
                    "subject": message.subject,
                    "body": message.body,
                },
            )
            rows.append(row)
            if created:
                new.append(row.pk)
        if new:
            transaction.on_commit(lambda: hand_over(new))
    return rows
