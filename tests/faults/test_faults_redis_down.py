"""Redis stopped during an approval: the approval still succeeds (the page,
the state, the audit trail), and once Redis is back the periodic sweeper
(``requeue-stuck-requests``) gets the pull requests opened, exactly once.

The portal runs as real processes (gunicorn, a Celery worker) on a private
redis-server that the test stops and restarts empty, as a crashed Redis
without persistence comes back."""

from __future__ import annotations

import pytest

from secrets_app.models import AccessRequest, AuditEvent, PullRequest, RequestState, TaskRun
from tests.faults.harness import (
    OPEN_PRS,
    SWEEPER,
    Browser,
    beat_sends,
    pr_creations,
    queued_tasks,
)
from tests.support.access_requests import make_pending, state_of
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def sweeps(portal) -> list[str]:
    """The worker's log lines of the sweeper's finished runs (with its result)."""
    lines = portal.log("worker1").splitlines()
    return [line for line in lines if f"{SWEEPER}[" in line and "] succeeded in " in line]


def opened(request) -> bool:
    return (
        PullRequest.objects.filter(request=request).count() == 2
        and state_of(request) == RequestState.PROVISIONING
    )


def test_an_approval_with_redis_stopped_succeeds_and_its_prs_open_once_redis_is_back(
    github, github_env, github_cluster, approver, requester, portal, private_redis
):
    portal_env = github_env
    portal_env["PORTAL_STUCK_MINUTES"] = "0"  # the sweeper may take any approved request
    browser = Browser(portal.web(), approver)

    # Approved while Redis is up: its message waits in Redis (no worker yet).
    queued = make_pending(github_cluster)
    page = f"/requests/{queued.pk}/"
    assert browser.post_form(page, page + "approve/").status_code == 302
    assert queued_tasks(private_redis.client()).count(OPEN_PRS) == 1

    private_redis.stop()
    during = make_pending(github_cluster, requester=requester, service="reporting")
    page = f"/requests/{during.pk}/"
    response = browser.post_form(page, page + "approve/")
    assert response.status_code == 302, response.text[:2000]
    assert response.headers["Location"] == page
    assert state_of(during) == RequestState.APPROVED
    assert AuditEvent.objects.filter(request=during, action="request.approved").exists()
    shown = browser.get(page)
    assert shown.status_code == 200 and "Your approval is recorded." in shown.text
    assert f"could not enqueue the pull requests of request {during.pk}" in portal.log("web")
    assert not TaskRun.objects.exists()

    # Redis comes back empty: the first request's message is lost as well.
    private_redis.start()
    assert private_redis.client().llen("celery") == 0
    portal.worker("worker1")
    beat_sends(private_redis.url, SWEEPER)
    wait_for(lambda: opened(queued) and opened(during), timeout=120, what="both requests' PRs")
    assert pr_creations(github) == {"platform/kilonova": 2, "platform/deploy": 2}

    # The sweeper comes round again: both tasks finished, so it re-runs
    # neither (they wait for people now), and nothing is opened twice.
    wait_for(
        lambda: not AccessRequest.objects.filter(prs_opened_at__isnull=True).exists(),
        what="both tasks to finish",
    )
    runs = TaskRun.objects.filter(kind="open_prs").count()
    beat_sends(private_redis.url, SWEEPER)
    wait_for(lambda: len(sweeps(portal)) == 2, timeout=120, what="the second round")
    assert sweeps(portal)[-1].endswith(": 0")  # requests enqueued
    assert TaskRun.objects.filter(kind="open_prs").count() == runs
    assert pr_creations(github) == {"platform/kilonova": 2, "platform/deploy": 2}
    assert PullRequest.objects.count() == 4
    assert state_of(queued) == state_of(during) == RequestState.PROVISIONING
    progress = browser.get(f"/requests/{during.pk}/").text
    assert "kilonova#" in progress and "deploy#" in progress
