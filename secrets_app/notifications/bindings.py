"""Notifications about bindings: failing for too long, expiring soon,
expired. Sent to the binding's owner (or, without one, its grant's
requester) and to Slack; each is keyed so that it goes out once."""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingState,
    HealthStatus,
    Namespace,
    Notification,
)

from . import messages
from .recipients import emails
from .store import record

_RELATED = ("cluster", "owner", "request__requester")

log = logging.getLogger(__name__)


def _never_raises(
    func: Callable[..., list[Notification]],
) -> Callable[..., list[Notification]]:
    """The expiry job calls these between its own steps: a notification
    that cannot be recorded is logged, and the job goes on (in a savepoint,
    so the caller's transaction stays usable)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> list[Notification]:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except Exception:
            log.exception("could not record %s%s", func.__name__, args)
            return []

    return wrapper


def _owners(binding: Binding) -> list[str]:
    owner = binding.owner or (binding.request.requester if binding.request_id else None)
    return emails([owner])


def _owners_or_team(binding: Binding) -> list[str]:
    """The owner; for a binding nobody owns (imported, not adopted), the
    members of the team that owns its namespace."""
    found = _owners(binding)
    if found:
        return found
    team = (
        Namespace.objects.filter(cluster_id=binding.cluster_id, name=binding.namespace)
        .values_list("team", flat=True)
        .first()
    )
    if team is None:
        return []
    return emails(get_user_model().objects.filter(groups=team).order_by("username"))


@_never_raises
def notify_expiry_reminder(binding_id: int, days_left: int) -> list[Notification]:
    """Remind the owner that the binding expires in ``days_left`` days. Once
    per binding, expiry date and ``days_left``: a second call returns the
    notifications of the first and sends nothing."""
    if not settings.NOTIFICATIONS_ENABLED:
        return []
    binding = Binding.objects.select_related(*_RELATED).get(pk=binding_id)
    if binding.expires_on is None:
        return []
    return record(
        key=f"binding.expiry:{binding.pk}:{binding.expires_on:%Y-%m-%d}:{days_left}d",
        event="binding.expiry_reminder",
        message=messages.expiry_reminder(binding, days_left),
        emails=_owners(binding),
    )


@_never_raises
def notify_binding_expired(binding_id: int, revocation_request_id: int) -> list[Notification]:
    """Tell the owner the binding expired and its revocation was asked for."""
    if not settings.NOTIFICATIONS_ENABLED:
        return []
    binding = Binding.objects.select_related(*_RELATED).get(pk=binding_id)
    revocation = AccessRequest.objects.select_related("cluster").get(pk=revocation_request_id)
    return record(
        key=f"binding.expired:{binding.pk}:{revocation.pk}",
        event="binding.expired",
        message=messages.binding_expired(binding, revocation),
        emails=_owners(binding),
    )


def failing_too_long(now: datetime.datetime | None = None) -> QuerySet[Binding]:
    """Active bindings failing for at least NOTIFY_FAILING_AFTER_MINUTES. A
    binding being revoked is expected to break, so it is left out."""
    cutoff = (now or timezone.now()) - datetime.timedelta(
        minutes=settings.NOTIFY_FAILING_AFTER_MINUTES
    )
    # ``failing_since`` survives an unreachable cluster (unknown is no proof of
    # recovery), so the status is checked too: a binding last seen failing.
    return Binding.objects.filter(
        state=BindingState.ACTIVE,
        health_status=HealthStatus.FAILING,
        failing_since__lte=cutoff,
    )


def _failing_key(binding: Binding) -> str:
    return f"binding.failing:{binding.pk}:{binding.failing_since.isoformat()}"


def notify_failing_bindings(now: datetime.datetime | None = None) -> int:
    """One notification per failing episode (the key holds ``failing_since``,
    which the health sweep resets when the binding recovers). Returns how many
    bindings were newly reported."""
    if not settings.NOTIFICATIONS_ENABLED:
        return 0
    bindings = list(failing_too_long(now).select_related(*_RELATED).order_by("pk"))
    # One query for what was already said, whatever the number of bindings.
    keys = {b.pk: _failing_key(b) for b in bindings}
    done = {
        k.rsplit(":", 1)[0]
        for k in Notification.objects.filter(
            key__in=[f"{k}:{c}" for k in keys.values() for c in Notification.Channel.values]
        ).values_list("key", flat=True)
    }
    reported = 0
    for binding in bindings:
        if keys[binding.pk] in done:
            continue
        latest = binding.snapshots.order_by("-taken_at").first()
        diagnosis = ""
        if latest is not None:
            diagnosis = " ".join(filter(None, [latest.diagnosis_code, latest.last_error]))
        minutes = settings.NOTIFY_FAILING_AFTER_MINUTES
        record(
            key=keys[binding.pk],
            event="binding.failing",
            message=messages.binding_failing(
                binding, since=binding.failing_since, minutes=minutes, diagnosis=diagnosis
            ),
            emails=_owners(binding),
        )
        reported += 1
    return reported


def _stale_key(binding_id: int, arn: str, version: str) -> str:
    # An ARN may be long; the key column is not: its hash names the secret.
    secret = hashlib.sha256(arn.encode()).hexdigest()[:16]
    return f"binding.stale:{binding_id}:{secret}:{version}"


@_never_raises
def notify_stale_bindings(cluster_id: int) -> list[Notification]:
    """Tell each stale binding's owner which pods run a superseded version,
    once per rotation: the key holds the secret's current version, which a
    new rotation changes (one query for what was already said)."""
    if not settings.NOTIFICATIONS_ENABLED:
        return []
    bindings = list(
        Binding.objects.filter(cluster_id=cluster_id, stale_since__isnull=False)
        .select_related(*_RELATED)
        .order_by("pk")
    )
    wanted = {
        _stale_key(b.pk, v["arn"], v["current_version"]): (b, v)
        for b in bindings
        for v in b.versions
        if v.get("state") == "stale"
    }
    done = {
        k.rsplit(":", 1)[0]
        for k in Notification.objects.filter(
            key__in=[f"{k}:{c}" for k in wanted for c in Notification.Channel.values]
        ).values_list("key", flat=True)
    }
    sent: list[Notification] = []
    for key, (binding, version) in wanted.items():
        if key in done:
            continue
        sent += record(
            key=key,
            event="binding.stale",
            message=messages.binding_stale(binding, version),
            emails=_owners_or_team(binding),
        )
    return sent
