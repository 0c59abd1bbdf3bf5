"""Expiry of bindings: reminders before, a revocation after.

Run once a day (``tasks.expiry.expire_bindings``); every step is idempotent,
so a run that is repeated, or that comes a day late, neither sends twice nor
opens a second revocation:

- 7 days or less before the expiry date, the owner is reminded once ("7d"),
  and again 1 day or less before ("1d"); the notification key makes each once;
- on or after the date, a revocation is asked for in the portal's name and
  goes to the platform team like any other. If one was already asked for
  since the date (open, rejected or done), nothing more is opened: a
  rejection means the platform team chose to keep the access, and they
  extend ``expires_on`` in the admin.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from secrets_app import notifications
from secrets_app.accounts.system import system_user
from secrets_app.models import Binding, BindingState
from secrets_app.requests import revocation, workflow

log = logging.getLogger(__name__)

REMINDER_DAYS = (7, 1)


@dataclass
class ExpiryReport:
    reminded: list[tuple[int, int]] = field(default_factory=list)  # (binding id, days)
    revocations: list[int] = field(default_factory=list)  # revocation request ids
    refused: list[tuple[int, str]] = field(default_factory=list)  # (binding id, why)


def reminder_due(days_left: int) -> int | None:
    """Which reminder a binding ``days_left`` days from expiry is owed, if any."""
    due = [d for d in REMINDER_DAYS if 0 < days_left <= d]
    return min(due) if due else None


def run_expiry(today: datetime.date | None = None) -> ExpiryReport:
    today = today or timezone.localdate()
    report = ExpiryReport()
    horizon = today + datetime.timedelta(days=max(REMINDER_DAYS))
    asker = None  # the system user, fetched once and only when something expired
    due = Binding.objects.filter(
        state=BindingState.ACTIVE, expires_on__isnull=False, expires_on__lte=horizon
    ).order_by("expires_on", "pk")
    for binding in due.only("pk", "expires_on"):
        days_left = (binding.expires_on - today).days
        if days_left > 0:
            days = reminder_due(days_left)
            if days is not None:
                notifications.notify_expiry_reminder(binding.pk, days)
                report.reminded.append((binding.pk, days))
            continue
        asker = asker or system_user()
        _revoke_expired(binding, asker, report)
    return report


def _revoke_expired(binding: Binding, asker, report: ExpiryReport) -> None:
    if binding.revocations.filter(created_at__date__gte=binding.expires_on).exists():
        return
    try:
        with transaction.atomic():
            asked = revocation.request_revocation(
                binding_id=binding.pk,
                requester=asker,
                reason=f"The access expired on {binding.expires_on:%Y-%m-%d}.",
                by_portal=True,
            )
    except workflow.WorkflowError as refused:
        # Another revocation is open, or the files cannot be named: the
        # binding page says so; the job goes on with the others.
        log.warning("expiry: binding %s not revoked: %s", binding.pk, refused.message)
        report.refused.append((binding.pk, refused.message))
        return
    notifications.notify_binding_expired(binding.pk, asked.pk)
    report.revocations.append(asked.pk)
