"""A fresh binding's grace period before drift counts.

When its pull requests merge, Argo CD and the Terraform pipeline have not
applied them yet: the first sweeps find no ServiceAccount, no class, no
role, and would call all of that drift. For ``PORTAL_DRIFT_GRACE_MINUTES``
after the grant (or a change) merged, the binding's page says it waits for
the cluster to apply it instead. Imported bindings have no grace: they were
found in the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from secrets_app.bindings.history import Entry
from secrets_app.models import Binding, BindingState, RequestState


def applied_at(history: Iterable[Entry]) -> datetime | None:
    """When the binding's files last changed in the repositories: its grant
    merged (the binding was created then) or its latest change merged."""
    merged = [
        e.when
        for e in history
        if e.kind == "grant" or (e.kind == "change" and e.request.state == RequestState.CHANGED)
    ]
    return max(merged, default=None)


def grace_until(
    binding: Binding, history: Iterable[Entry], now: datetime | None = None
) -> datetime | None:
    """The end of the grace period if it is running now, else None."""
    if binding.state != BindingState.ACTIVE:
        return None
    merged = applied_at(history)
    if merged is None:
        return None
    until = merged + timedelta(minutes=settings.PORTAL_DRIFT_GRACE_MINUTES)
    return until if (now or timezone.now()) < until else None


def quiet_until(
    binding: Binding, history: Iterable[Entry], now: datetime | None = None
) -> datetime | None:
    """When the drift section starts reporting again, if it waits now: in the
    grace period, unless a comparison since the merge already found nothing
    (then there is nothing to hold back)."""
    history = list(history)
    until = grace_until(binding, history, now)
    if until is None:
        return None
    settled = (
        binding.has_drift is False
        and binding.drift_checked_at is not None
        and binding.drift_checked_at >= applied_at(history)
    )
    return None if settled else until
