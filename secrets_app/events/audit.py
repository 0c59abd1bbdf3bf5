"""Writing audit events. Call only inside the transaction of the change the
event records (the workflow services do), so that neither exists without the
other.

Listeners (``on_audit``) hear of an event only once its transaction has
committed, with the event's id: notifications hang off the audit log this way,
so the workflow never imports them and a rolled-back change notifies nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import models, transaction

from secrets_app.models import AccessRequest, AuditEvent

AuditListener = Callable[[int], None]
_listeners: dict[str, list[AuditListener]] = {}


def on_audit(*actions: str) -> Callable[[AuditListener], AuditListener]:
    """Register ``listener(event_id)`` to run after an event with one of
    ``actions`` commits. A listener that raises is logged by Django
    (``robust``) and never reaches the code that made the change."""

    def register(listener: AuditListener) -> AuditListener:
        for action in actions:
            registered = _listeners.setdefault(action, [])
            if listener not in registered:
                registered.append(listener)
        return listener

    return register


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
    for listener in _listeners.get(action, ()):
        transaction.on_commit(partial(listener, event.pk), robust=True)
    return event
