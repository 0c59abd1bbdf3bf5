"""What the review pages show, in a fixed number of queries: the reviews
with their progress, and for one review what each of the user's teams must
confirm (admins see every team) beside every team's progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count, Q, QuerySet

from secrets_app.accounts.roles import is_admin
from secrets_app.bindings.usage import Usage, usage
from secrets_app.models import AccessReview, ReviewDecision, ReviewItem
from secrets_app.ownership.teams import team_ids

_PENDING = Q(items__decision=ReviewDecision.PENDING)


def reviews() -> QuerySet[AccessReview]:
    return AccessReview.objects.annotate(
        total=Count("items"), pending=Count("items", filter=_PENDING)
    )


@dataclass
class Row:
    item: ReviewItem
    usage: Usage
    can_decide: bool


@dataclass
class TeamProgress:
    team: str
    total: int = 0
    decided: int = 0
    by_decision: dict[str, int] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 100


def progress(review: AccessReview) -> list[TeamProgress]:
    """Each team's answers so far (one query)."""
    teams: dict[str, TeamProgress] = {}
    for name, decision, n in (
        review.items.values_list("team_name", "decision")
        .annotate(n=Count("pk"))
        .order_by("team_name", "decision")
    ):
        row = teams.setdefault(name, TeamProgress(name or "no team"))
        row.total += n
        row.by_decision[decision] = n
        if decision != ReviewDecision.PENDING:
            row.decided += n
    return list(teams.values())


def to_confirm(review: AccessReview, user) -> list[tuple[str, list[Row]]]:
    """The items of the user's teams (every team's for admins), grouped by
    team: the binding with its health and usage, and whether the user may
    answer now (two queries at most)."""
    items = review.items.select_related("binding__cluster", "decided_by", "revocation")
    admin = is_admin(user)
    if not admin:
        items = items.filter(team_id__in=team_ids(user))
    rows = [
        Row(i, usage(i.binding), review.is_open and i.decision == ReviewDecision.PENDING)
        for i in items
    ]
    return [
        (team or "no team", list(group))
        for team, group in groupby(rows, key=lambda r: r.item.team_name)
    ]
