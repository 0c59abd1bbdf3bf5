"""Writing audit events. Call only inside the transaction of the change the
event records (the workflow services do), so that neither exists without the
other.

Each event is also published on the event bus under its action, so the
follow-ups of a change (a task to enqueue, a notification) hang off the audit
log: they run once the change has committed, with the event, and the
services that made the change never import them.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from secrets_app.events import bus
from secrets_app.models import AccessRequest, AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    request: AccessRequest | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change.")
    event = AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        request=request,
        before=before,
        after=after,
        message=message,
    )
    bus.publish(action, event)
    return event
