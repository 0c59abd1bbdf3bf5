"""Notifications by email (Django's email backend) and Slack (an incoming
webhook): new requests to the approvers, decisions, pull requests opened,
failures to the requester, bindings failing for too long, expiry.

Each notification is a ``Notification`` row first, recorded once per key
after the change it reports has committed, and then sent by a Celery task
that retries with backoff; a failure is logged and visible in the admin and
never reaches the workflow. What is recorded for which audit event is in
``events``; ``events.followups`` wires it to the audit log.
"""

from .bindings import (
    notify_binding_expired,
    notify_expiry_reminder,
    notify_failing_bindings,
    notify_stale_bindings,
)
from .events import notify_audit_event
from .sending import SendOutcome, notification_send, notifications_resend
from .store import RECORDED

__all__ = [
    "RECORDED",
    "SendOutcome",
    "notification_send",
    "notifications_resend",
    "notify_audit_event",
    "notify_binding_expired",
    "notify_expiry_reminder",
    "notify_failing_bindings",
    "notify_stale_bindings",
]
