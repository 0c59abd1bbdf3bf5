"""GitHub failing while the pull requests are opened: 502s, the secondary
rate limit (403 "You have exceeded a secondary rate limit", with and without
``Retry-After``), and a 502 that outlasts every retry. Each time: the pull
requests are opened exactly once after the fault clears, every attempt is a
TaskRun row, and the request page says what happened.

tests/pulls/test_open_pull_requests.py already covers one 502 and one rate
limit (retried, then opened); these add the duplicate checks, the rows and
the page, and the faults it does not cover."""

from __future__ import annotations

import pytest

from fakes.github_api import SECONDARY_RATE_LIMIT_MESSAGE
from secrets_app.models import PullRequest, RequestState, TaskRun
from secrets_app.tasks.provisioning import requeue_stuck_requests
from tests.faults.harness import pr_creations
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.clients import client_for
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ONCE_EACH = {"platform/kilonova": 1, "platform/deploy": 1}


def outcomes(request) -> list[tuple[str, str]]:
    runs = TaskRun.objects.filter(request=request, kind="open_prs").order_by("started_at", "id")
    return list(runs.values_list("outcome", "error"))


def opened(request) -> bool:
    return (
        PullRequest.objects.filter(request=request).count() == 2
        and TaskRun.objects.filter(request=request, outcome="succeeded").exists()
    )


def page_of(request, user) -> str:
    response = client_for(user).get(request.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_502s_on_every_step_are_retried_and_each_pr_is_opened_once(
    github, worker, github_cluster, approver
):
    for path in (r"/git/trees$", r"/git/commits$", r"/git/refs$", r"/pulls$"):
        github.inject("POST", path, status=502, times=1)
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_for(lambda: opened(request), what="both PRs")

    runs = outcomes(request)
    assert [o for o, _ in runs] == ["retrying"] * 4 + ["succeeded"]
    assert all("502" in error for _, error in runs[:4])
    assert pr_creations(github) == ONCE_EACH
    assert state_of(request) == RequestState.PROVISIONING
    page = page_of(request, approver)
    assert page.count("Will retry") == 4 and "Succeeded" in page
    assert "502" in page  # the last error, beside the runs


def test_a_secondary_rate_limit_while_opening_a_pr_is_waited_out_then_opened_once(
    github, worker, github_cluster, approver
):
    # With Retry-After; without it the wait is a minute (the next test).
    retry_after = 2
    github.rate_limit_next("POST", r"/pulls$", retry_after=retry_after)
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_for(lambda: opened(request), what="both PRs")

    (retrying, error), (succeeded, _) = outcomes(request)
    assert (retrying, succeeded) == ("retrying", "succeeded")
    assert "403" in error and "secondary rate limit" in error
    run = TaskRun.objects.get(request=request, outcome="retrying")
    assert run.detail["retry_in"] >= retry_after
    assert pr_creations(github) == ONCE_EACH
    page = page_of(request, approver)
    assert "Will retry" in page and "secondary rate limit" in page


def test_a_secondary_rate_limit_without_retry_after_waits_at_least_a_minute(
    github, worker, github_cluster, approver, settings
):
    settings.PORTAL_TASK_RETRY_BASE = 2.0
    settings.PORTAL_TASK_RETRY_CAP = 120.0
    github.inject("POST", r"/pulls$", status=403, message=SECONDARY_RATE_LIMIT_MESSAGE)
    request = make_pending(github_cluster)
    approve(request, approver)
    run = wait_for(
        lambda: TaskRun.objects.filter(request=request, outcome="retrying").first(),
        what="the rate-limited run",
    )
    assert run.detail["retry_in"] >= 60


def test_a_502_outlasting_the_retries_shows_and_the_requeue_job_opens_each_pr_once(
    github, worker, github_cluster, approver, settings
):
    """An outage is not the request's fault: it stays provisioning, the page
    says so with GitHub's words, and the requeue job runs it again."""
    # Every attempt meets the 502: the first and PORTAL_TASK_MAX_ATTEMPTS (4) retries.
    github.inject("POST", r"/pulls$", status=502, times=5, message="Bad Gateway")
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_for(
        lambda: [o for o, _ in outcomes(request)][4:] == ["failed"], what="the retries to run out"
    )

    runs = outcomes(request)
    assert [o for o, _ in runs] == ["retrying"] * 4 + ["failed"]
    assert state_of(request) == RequestState.PROVISIONING
    assert pr_creations(github) == {"platform/kilonova": 0, "platform/deploy": 0}
    page = page_of(request, approver)
    assert "Opening the pull requests failed" in page and "tries again" in page
    assert "502" in page and "Bad Gateway" in page

    # GitHub is back (the five 502s are spent); the requeue job's next run.
    settings.PORTAL_STUCK_MINUTES = 0
    assert requeue_stuck_requests() == 1
    wait_for(lambda: opened(request), what="both PRs after the requeue")
    assert pr_creations(github) == ONCE_EACH
    assert state_of(request) == RequestState.PROVISIONING
