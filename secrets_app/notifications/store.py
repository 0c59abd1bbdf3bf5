"""Recording notifications and handing them to the sender.

A notification is a row first (``key`` unique, so an event or a reminder is
recorded once however often it is reported); new rows are published on the
event bus (``RECORDED``) and sent by its follow-up (the Celery task) once they
have committed. If the hand-over fails, the row stays pending and the resend
schedule sends it later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

from secrets_app.events import bus
from secrets_app.models import Notification

from .messages import Message

log = logging.getLogger(__name__)

#: The bus topic of newly recorded (or re-opened) notifications; its payload
#: is the list of their ids.
RECORDED = "notifications.recorded"


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
            bus.publish(RECORDED, new)
    return rows
