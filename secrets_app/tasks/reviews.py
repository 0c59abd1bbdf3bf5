"""The access review job (hourly): open a review when one is due, remind the
teams before its deadline, and at the deadline revoke what was not confirmed.
Each step is idempotent, so a repeated or late run does nothing twice."""

from __future__ import annotations

from celery import shared_task

from secrets_app.models import TaskRun
from secrets_app.reviews import deadline, opening, reminders
from secrets_app.tasks.locks import exclusive
from secrets_app.tasks.runs import ending


@shared_task(acks_late=True)
def run_access_reviews() -> dict[str, int]:
    with exclusive("access-reviews", timeout=3600) as mine:
        if not mine:
            return {"skipped": 1}
        with ending(TaskRun.objects.create(kind="access-review")) as run:
            closed = deadline.close_due_reviews()
            opened = opening.open_access_review()
            reminded = reminders.send_reminders()
        report = {
            "opened": opened.pk if opened else 0,
            "reminded": reminded,
            "closed": len(closed),
        }
        run.finish(TaskRun.Outcome.SUCCEEDED, **report)
    return report
