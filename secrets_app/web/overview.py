"""What the overview (the landing page) shows a person: their bindings,
their requests, and what waits for them. One query per list, whatever the
number of rows (each list is cut at ``LIMIT`` and says when there is more)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from secrets_app.accounts.roles import is_approver
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingState,
    Comment,
    Decision,
    HealthStatus,
    RequestState,
    Verdict,
)

#: Rows per list; the page links to the full list for the rest.
LIMIT = 8
#: Bindings expiring within this many days ask their owner to extend or let go.
EXPIRING_DAYS = 14
#: A rejected request is "to fix" (copy into a new one) this long.
REJECTED_DAYS = 14
#: The requester's requests that wait for the requester.
YOURS_TO_ACT = (RequestState.DRAFT, RequestState.NEEDS_ATTENTION, RequestState.FAILED)


@dataclass
class Cut:
    """The first ``LIMIT`` rows of a list, and whether there are more."""

    rows: list[Any] = field(default_factory=list)
    more: bool = False

    @classmethod
    def of(cls, queryset) -> Cut:
        rows = list(queryset[: LIMIT + 1])
        return cls(rows=rows[:LIMIT], more=len(rows) > LIMIT)


@dataclass
class Overview:
    bindings: Cut
    requests: Cut
    to_fix: Cut
    expiring: Cut
    not_working: Cut
    commented: Cut
    approvals: Cut | None  # None: not an approver
    to_merge: Cut | None  # None: not an approver

    @property
    def nothing_waits(self) -> bool:
        lists = [
            self.to_fix,
            self.expiring,
            self.not_working,
            self.commented,
            self.approvals or Cut(),
            self.to_merge or Cut(),
        ]
        return not any(cut.rows for cut in lists)


def overview_for(user, *, today: datetime.date | None = None) -> Overview:
    today = today or timezone.localdate()
    live = Binding.objects.filter(owner=user).exclude(state=BindingState.REVOKED)
    bindings = live.select_related("cluster").order_by("cluster__name", "namespace", "service")
    mine = AccessRequest.objects.filter(requester=user).select_related("cluster")
    to_fix = mine.filter(
        Q(state__in=YOURS_TO_ACT)
        | Q(state=RequestState.REJECTED, decided_at__date__gte=today - _days(REJECTED_DAYS))
    ).order_by("-updated_at", "-id")
    expiring = bindings.filter(
        state=BindingState.ACTIVE,
        expires_on__isnull=False,
        expires_on__lte=today + _days(EXPIRING_DAYS),
    ).order_by("expires_on", "id")
    not_working = bindings.filter(
        Q(health_status__in=(HealthStatus.FAILING, HealthStatus.DEGRADED))
        | Q(verification_ok=False),
        state=BindingState.ACTIVE,
    )
    approver = is_approver(user)
    return Overview(
        bindings=Cut.of(bindings),
        requests=Cut.of(mine.order_by("-created_at", "-id")),
        to_fix=Cut.of(to_fix),
        expiring=Cut.of(expiring),
        not_working=Cut.of(not_working),
        commented=Cut.of(_answer_due(mine, user)),
        approvals=Cut.of(_waiting_for(user)) if approver else None,
        to_merge=Cut.of(_pulls_to_review()) if approver else None,
    )


def _answer_due(mine, user):
    """The requester's pending requests where someone else (an approver
    asking for changes) commented after the requester last did."""
    others = Comment.objects.filter(request=OuterRef("pk")).exclude(author=user)
    own = Comment.objects.filter(request=OuterRef("pk"), author=user)
    return (
        mine.filter(state=RequestState.PENDING)
        .annotate(
            other_said=Subquery(others.order_by("-created_at").values("created_at")[:1]),
            own_said=Subquery(own.order_by("-created_at").values("created_at")[:1]),
        )
        .filter(other_said__isnull=False)
        .filter(Q(own_said__isnull=True) | Q(own_said__lt=F("other_said")))
        .order_by("-other_said", "-id")
    )


def _pulls_to_review():
    """Approved requests whose pull requests are open: to review and merge."""
    return (
        AccessRequest.objects.filter(state=RequestState.PROVISIONING, prs_opened_at__isnull=False)
        .select_related("cluster", "requester")
        .order_by("prs_opened_at", "id")
    )


def _waiting_for(approver):
    """Pending requests the approver may decide and has not: oldest first."""
    decided = Decision.objects.filter(request=OuterRef("pk"), approver=approver)
    return (
        AccessRequest.objects.filter(state=RequestState.PENDING)
        .exclude(requester=approver)
        .exclude(Exists(decided))
        .select_related("cluster", "requester")
        .annotate(approvals=Count("decisions", filter=Q(decisions__verdict=Verdict.APPROVE)))
        .order_by("submitted_at", "id")
    )


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)
