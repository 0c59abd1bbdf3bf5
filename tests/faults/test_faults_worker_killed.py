"""A Celery worker killed (SIGKILL) while it opens the pull requests: the
task is acknowledged late, so its message stays in Redis's unacked set; once
the visibility timeout has passed, the next worker restores and finishes it.
GitHub had already received the killed worker's request (it was stuck in
flight), so the re-run must find that pull request, not open a second one."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.conf import settings

from secrets_app.models import PullRequest, RequestState, TaskRun
from tests.faults.harness import (
    OPEN_PRS,
    SWEEPER,
    Browser,
    beat_sends,
    pr_creations,
    queued_tasks,
    unacked_tasks,
)
from tests.support.access_requests import make_pending, state_of
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

VISIBILITY_SECONDS = 4
PR_LOCK_SECONDS = 600  # the task's lock on one request (secrets_app/tasks/provisioning.py)


def logged(github, repo: str, method: str, suffix: str) -> bool:
    owner, name = repo.split("/")
    return any(
        c.method == method and c.path.endswith(suffix) for c in github.requests_for(owner, name)
    )


@pytest.mark.parametrize(
    ("repo", "repository"),
    [
        ("platform/kilonova", "infra"),
        ("platform/deploy", "deploy"),
    ],
    ids=["killed-opening-infra-pr", "killed-opening-deploy-pr"],
)
def test_a_worker_killed_mid_task_is_finished_by_the_next_one_without_duplicates(
    github, github_env, github_cluster, approver, portal, private_redis, repo, repository
):
    github_env["CELERY_VISIBILITY_TIMEOUT"] = str(VISIBILITY_SECONDS)
    browser = Browser(portal.web(), approver)
    worker1 = portal.worker("worker1")
    # Creating this PR hangs at GitHub: the worker waits there to be killed.
    github.inject("POST", rf"^/api/v3/repos/{repo}/pulls$", status=None, delay=8)
    request = make_pending(github_cluster)
    page = f"/requests/{request.pk}/"
    assert browser.post_form(page, page + "approve/").status_code == 302

    wait_for(
        lambda: logged(github, repo, "POST", "/git/refs"),
        what="the branch (the PR creation comes next)",
    )
    time.sleep(2.0)  # the worker is now waiting on POST .../pulls
    portal.kill(worker1)
    redis = private_redis.client()
    assert unacked_tasks(redis) == [OPEN_PRS]  # taken, never acknowledged
    assert OPEN_PRS not in queued_tasks(redis)
    # GitHub finishes the request the dead worker sent: the PR exists, the
    # portal has no record of it.
    wait_for(lambda: logged(github, repo, "POST", "/pulls"), what="the hung PR")
    assert not PullRequest.objects.filter(request=request, repository=repository).exists()
    assert state_of(request) == RequestState.PROVISIONING

    # The dead worker's lock outlives it. In production it expires long before
    # the message comes back (600 s < visibility timeout 3600 s); fast-forward
    # that here, as the test's visibility timeout is seconds.
    lock = f"portal:lock:open-prs:{request.pk}"
    assert 0 < redis.ttl(lock) <= PR_LOCK_SECONDS
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > PR_LOCK_SECONDS
    redis.delete(lock)
    delivered = redis.zrange("unacked_index", 0, -1, withscores=True)[0][1]
    time.sleep(max(0.0, delivered + VISIBILITY_SECONDS + 0.5 - time.time()))

    portal.worker("worker2")  # restores visible-again messages as it starts
    wait_for(
        lambda: (
            PullRequest.objects.filter(request=request).count() == 2
            and TaskRun.objects.filter(request=request, outcome="succeeded").exists()
        ),
        timeout=120,
        what="the second worker to finish",
    )
    assert pr_creations(github) == {"platform/kilonova": 1, "platform/deploy": 1}
    assert state_of(request) == RequestState.PROVISIONING
    pulls = {p.repository: p for p in PullRequest.objects.filter(request=request)}
    infra = github.pull("platform", "kilonova", pulls["infra"].number)
    assert pulls["deploy"].url in infra["body"]  # linked although opened by the dead worker
    # The killed run stays visible as it was left: started, never finished.
    outcomes = sorted(TaskRun.objects.filter(request=request).values_list("outcome", flat=True))
    assert outcomes == ["running", "succeeded"]
    assert OPEN_PRS not in unacked_tasks(redis) + queued_tasks(redis)


def test_a_killed_pool_process_requeues_its_task_and_the_sweeper_finishes_it(
    github, github_env, github_cluster, approver, portal, private_redis
):
    """Prefork: the worker's parent sees its child die and, with
    ``reject_on_worker_lost``, puts the message back at once. The re-run meets
    the dead child's lock and skips; the request is not lost: once the lock
    has expired, the periodic sweeper enqueues it again and it completes."""
    github_env["PORTAL_STUCK_MINUTES"] = "0"
    browser = Browser(portal.web(), approver)
    worker = portal.worker("worker1", pool="prefork")
    github.inject("POST", r"/kilonova/pulls$", status=None, delay=8)
    request = make_pending(github_cluster)
    page = f"/requests/{request.pk}/"
    assert browser.post_form(page, page + "approve/").status_code == 302
    wait_for(lambda: logged(github, "platform/kilonova", "POST", "/git/refs"), what="the branch")
    time.sleep(2.0)  # the pool process is now waiting on POST .../pulls
    (child,) = portal.children(worker)
    os.kill(child, signal.SIGKILL)

    skipped = wait_for(
        lambda: TaskRun.objects.filter(request=request, detail__has_key="skipped").first(),
        what="the requeued run",
    )
    assert skipped.outcome == "succeeded"  # it found the dead child's lock
    assert worker.poll() is None  # the parent lives on, with a new child
    assert "WorkerLostError" in portal.log("worker1")
    assert not PullRequest.objects.filter(request=request, repository="deploy").exists()

    # GitHub finishes the dead process's request; its lock is left behind.
    wait_for(lambda: logged(github, "platform/kilonova", "POST", "/pulls"), what="the hung PR")
    redis = private_redis.client()
    redis.delete(f"portal:lock:open-prs:{request.pk}")  # as if its 600 s had passed
    beat_sends(private_redis.url, SWEEPER)
    wait_for(
        lambda: TaskRun.objects.filter(request=request, detail__has_key="pulls").exists(),
        timeout=120,
        what="the sweeper's run",
    )
    assert pr_creations(github) == {"platform/kilonova": 1, "platform/deploy": 1}
    pulls = {p.repository: p for p in PullRequest.objects.filter(request=request)}
    infra = github.pull("platform", "kilonova", pulls["infra"].number)
    assert pulls["deploy"].url in infra["body"]
