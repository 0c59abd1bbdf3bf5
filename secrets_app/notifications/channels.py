"""Delivering one notification by its channel. Errors are the adapters'
``RetryableError`` / ``PermanentError`` so the sender knows whether to retry."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from secrets_app.integrations import slack
from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.models import Notification

from .messages import slack_escape


def send_email(notification: Notification) -> None:
    message = EmailMessage(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(notification.recipients),
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentError(f"Every recipient was refused: {error}", system="email") from None
    except (smtplib.SMTPException, OSError) as error:
        # OSError: refused connections, timeouts, TLS failures.
        raise RetryableError(f"{type(error).__name__}: {error}", system="email") from None


def send_slack(notification: Notification) -> None:
    url = settings.SLACK_WEBHOOK_URL
    if not url:
        raise PermanentError("Slack is off: SLACK_WEBHOOK_URL is blank.", system="slack")
    text = slack_escape(f"{notification.subject}\n{notification.body}".strip())
    slack.post_message(url, text, timeout=settings.SLACK_TIMEOUT_SECONDS)


def deliver(notification: Notification) -> None:
    if notification.channel == Notification.Channel.SLACK:
        send_slack(notification)
    else:
        send_email(notification)
