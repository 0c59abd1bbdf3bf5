"""The daily expiry job: reminders before a binding expires, a revocation after."""

from __future__ import annotations

from celery import shared_task

from secrets_app.bindings import expiry
from secrets_app.models import TaskRun
from secrets_app.tasks.locks import exclusive
from secrets_app.tasks.runs import ending


@shared_task(acks_late=True)
def expire_bindings() -> dict[str, int]:
    with exclusive("expire-bindings", timeout=3600) as mine:
        if not mine:
            return {"skipped": 1}
        with ending(TaskRun.objects.create(kind="expiry")) as run:
            report = expiry.run_expiry()
        run.finish(
            TaskRun.Outcome.SUCCEEDED,
            reminded=len(report.reminded),
            revocations=report.revocations,
            refused=[{"binding": pk, "why": why} for pk, why in report.refused],
        )
    return {"reminded": len(report.reminded), "revocations": len(report.revocations)}
