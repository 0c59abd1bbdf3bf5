"""Reminders before a review's deadline: to each team with bindings still to
confirm (its members, and the bindings' owners), at each of
``PORTAL_REVIEW_REMINDER_DAYS`` days before it. The notification key names
the review, the team and the day, so each goes out once however often the
job runs."""

from __future__ import annotations

import datetime
import math
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from secrets_app.models import AccessReview, ReviewDecision, ReviewItem
from secrets_app.notifications.messages import Message, portal_url
from secrets_app.notifications.recipients import emails
from secrets_app.notifications.store import record


def reminder_due(days_left: int) -> int | None:
    due = [d for d in settings.PORTAL_REVIEW_REMINDER_DAYS if 0 < days_left <= d]
    return min(due) if due else None


def send_reminders(now: datetime.datetime | None = None) -> int:
    """Remind the teams of the open review, if a reminder is due; returns how
    many teams were reminded (including ones reminded before)."""
    if not settings.NOTIFICATIONS_ENABLED:
        return 0
    now = now or timezone.now()
    review = AccessReview.objects.filter(is_open=True, deadline__gt=now).first()
    if review is None:
        return 0
    days = reminder_due(math.ceil((review.deadline - now) / datetime.timedelta(days=1)))
    if days is None:
        return 0
    pending = defaultdict(list)
    for item in review.items.filter(decision=ReviewDecision.PENDING).select_related(
        "binding__cluster", "binding__owner", "binding__request__requester"
    ):
        pending[item.team_id].append(item)
    members = defaultdict(list)
    for user in _members([t for t in pending if t is not None]):
        members[user.team_id].append(user)
    for team_id, items in pending.items():
        owners = [i.binding.owner or _requester(i) for i in items]
        record(
            key=f"review.reminder:{review.pk}:{team_id or 'none'}:{days}d",
            event="review.reminder",
            message=_message(review, items, days),
            emails=emails([*members.get(team_id, []), *owners]),
        )
    return len(pending)


def _requester(item: ReviewItem):
    return item.binding.request.requester if item.binding.request_id else None


def _members(team_ids: list[int]):
    """Active members of the teams, each with ``team_id`` (one query)."""
    rows = get_user_model().groups.through.objects.filter(group_id__in=team_ids)
    for row in rows.select_related("user").order_by("user__username"):
        row.user.team_id = row.group_id
        yield row.user


def _message(review: AccessReview, items: list[ReviewItem], days: int) -> Message:
    team = items[0].team_name or "no team"
    when = "tomorrow" if days == 1 else f"in {days} days"
    listed = "\n".join(
        f"  - {i.binding.cluster.name}/{i.binding.namespace}/{i.binding.service_account}"
        for i in items[:50]
    )
    more = f"\n  ... and {len(items) - 50} more" if len(items) > 50 else ""
    return Message(
        f"[Secrets portal] Access review closes {when}: {len(items)} bindings of {team}",
        f"{review} closes on {review.deadline:%Y-%m-%d %H:%M} UTC ({when}).\n"
        f"Team {team} has {len(items)} bindings still to confirm:\n{listed}{more}\n\n"
        "Each binding not confirmed by then gets a revocation request.\n\n"
        f"Confirm or revoke them: {portal_url(review)}\n",
    )
