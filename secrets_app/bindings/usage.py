"""Unused access: an active binding that no pod has mounted for
``PORTAL_UNUSED_DAYS`` days. The health sweep stamps ``last_mounted_at``
whenever it finds a pod mounting the binding; a binding never seen mounted
counts from its creation. Derived from the row alone, so lists cost nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from secrets_app.models import Binding, BindingState


def cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.PORTAL_UNUSED_DAYS)


def unused_q(now: datetime.datetime | None = None) -> Q:
    """Active bindings unused for ``PORTAL_UNUSED_DAYS`` days, as a filter."""
    before = cutoff(now)
    return Q(state=BindingState.ACTIVE) & (
        Q(last_mounted_at__lt=before) | Q(last_mounted_at__isnull=True, created_at__lt=before)
    )


@dataclass(frozen=True)
class Usage:
    last_mounted_at: datetime.datetime | None
    idle_days: int  # whole days since the last mount (or since creation)
    unused: bool


def usage(binding: Binding, now: datetime.datetime | None = None) -> Usage:
    now = now or timezone.now()
    since = binding.last_mounted_at or binding.created_at
    idle = max((now - since).days, 0) if since else 0
    unused = binding.state == BindingState.ACTIVE and since is not None and since < cutoff(now)
    return Usage(binding.last_mounted_at, idle, unused)
