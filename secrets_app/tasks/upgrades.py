"""The fleet upgrade task behind the admin page's "Open upgrade pull
requests": check the fleet (or one cluster) and open the upgrade pull
requests, one run at a time (a Redis lock), each leaving a ``TaskRun`` of
kind "open_upgrades" that the page shows. Following the pull requests is
the poll's job (``provisioning.poll_pull_requests``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from secrets_app.fleet.check import check_fleet
from secrets_app.fleet.upgrades import upgrades_open
from secrets_app.integrations.backends import retry_policy
from secrets_app.models import Cluster, TaskRun
from secrets_app.tasks.locks import exclusive

log = logging.getLogger(__name__)

KIND = "open_upgrades"
#: A whole fleet's check and a few pull requests: minutes at most.
LOCK_SECONDS = 30 * 60


@shared_task(bind=True, acks_late=True, name="secrets_app.tasks.upgrades.open_upgrades")
def open_upgrades(
    self, cluster_id: int | None = None, force: bool = False, actor_id: int | None = None
) -> str:
    run = TaskRun.objects.create(kind=KIND, cluster_id=cluster_id, task_id=self.request.id or "")
    run.detail = {"forced": force}
    with exclusive("fleet-upgrades", timeout=LOCK_SECONDS) as mine:
        if not mine:
            run.finish(TaskRun.Outcome.SUCCEEDED, skipped="another upgrade run is going")
            return "skipped"
        try:
            clusters = Cluster.objects.filter(pk=cluster_id) if cluster_id is not None else None
            actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
            report = check_fleet(clusters)
            opened = upgrades_open(report, actor=actor, force=force, policy=retry_policy())
        except Exception as error:
            log.exception("open_upgrades failed")
            run.finish(TaskRun.Outcome.FAILED, error=f"{type(error).__name__}: {error}")
            return "failed"
    errors = [f"{o.cluster.name} {o.repository}: {o.error}" for o in opened if o.error]
    run.finish(
        TaskRun.Outcome.FAILED if errors else TaskRun.Outcome.SUCCEEDED,
        error="; ".join(errors),
        counts=report.counts(),
        upgrades=[o.upgrade.pk for o in opened if o.upgrade is not None],
        refused=sum(len(o.refused) for o in opened),
    )
    return "failed" if errors else "opened"


def enqueue_open_upgrades(*, cluster_id: int | None, force: bool, actor_id: int | None) -> bool:
    """Queue a run; False when the broker cannot take it (said on the page)."""
    try:
        open_upgrades.delay(cluster_id, force, actor_id)
    except Exception as error:  # the broker's errors vary by transport
        log.warning("could not enqueue the fleet upgrade: %s", error)
        return False
    return True
