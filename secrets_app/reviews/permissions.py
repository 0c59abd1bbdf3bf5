"""Who decides a review item: members of the team that owns the binding's
namespace (as recorded when the review opened), and admins."""

from __future__ import annotations

from secrets_app.accounts.roles import is_admin
from secrets_app.models import ReviewItem
from secrets_app.ownership.teams import team_ids


def can_decide(user, item: ReviewItem) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return is_admin(user) or (item.team_id is not None and item.team_id in team_ids(user))
