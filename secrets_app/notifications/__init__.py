"""Notifications by email (Django's email backend) and Slack (an incoming
webhook): new requests to the approvers, decisions, pull requests opened,
failures to the requester, bindings failing for too long, expiry.

Each notification is a ``Notification`` row first, recorded once per key
after the change it reports has committed, and then sent by a Celery task
that retries with backoff; a failure is logged and visible in the admin and
never reaches the workflow. Importing this package registers the audit
listeners (``events``).
"""

from . import events  # noqa: F401  (registers the audit listeners)
from .bindings import notify_binding_expired, notify_expiry_reminder, notify_failing_bindings
from .sending import SendOutcome, notification_send, notifications_resend
from .store import hand_over, on_recorded

__all__ = [
    "SendOutcome",
    "hand_over",
    "notification_send",
    "notifications_resend",
    "notify_binding_expired",
    "notify_expiry_reminder",
    "notify_failing_bindings",
    "on_recorded",
]
