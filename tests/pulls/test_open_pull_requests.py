"""The pull-request task with a real Celery worker on Redis and PyGithub
talking to a loopback GitHub."""

import pytest

from secrets_app.models import AuditEvent, PullRequest, RequestState, TaskRun
from secrets_app.tasks.provisioning import open_pull_requests
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.celery_worker import running_worker
from tests.support.github import DEPLOY, INFRA, TOKEN
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def pulls_of(request):
    return {p.repository: p for p in PullRequest.objects.filter(request=request)}


def wait_opened(request):
    return wait_for(
        lambda: (
            len(pulls_of(request)) == 2
            and TaskRun.objects.filter(request=request, outcome="succeeded").exists()
        ),
        what="both pull requests",
    )


def test_approval_opens_one_pr_per_repository_that_link_each_other(
    github, worker, github_cluster, approver
):
    request = make_pending(github_cluster, secrets=3)
    approve(request, approver)
    wait_opened(request)

    assert state_of(request) == RequestState.PROVISIONING
    pulls = pulls_of(request)
    infra = github.pull("platform", "kilonova", pulls["infra"].number)
    deploy = github.pull("platform", "deploy", pulls["deploy"].number)
    assert infra["head"]["ref"] == deploy["head"]["ref"] == f"portal/request-{request.pk}"
    assert pulls["deploy"].url in infra["body"]
    assert pulls["infra"].url in deploy["body"] and "Merge this after" in deploy["body"]
    for body in (infra["body"], deploy["body"]):
        assert request.requester.username in body and approver.username in body
        assert request.justification in body
        assert TOKEN not in body
    files = github.branch_files("platform", "deploy", f"portal/request-{request.pk}")
    assert any(p.endswith("secretproviderclass.yaml") for p in files)
    tf = github.branch_files("platform", "kilonova", f"portal/request-{request.pk}")
    assert any(p.endswith(".tf") for p in tf)
    # Few calls: at most 5 per PR opened, plus one PATCH linking infra to deploy.
    assert len(github.requests_for("platform", "kilonova")) <= 6
    assert len(github.requests_for("platform", "deploy")) <= 5
    actions = list(AuditEvent.objects.filter(request=request).values_list("action", flat=True))
    assert "request.provisioning" in actions
    assert actions.count("pull_request.opened") == 2


def test_rerun_changes_nothing_and_costs_at_most_two_requests_per_repo(
    github, worker, github_cluster, approver
):
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_opened(request)
    before = {repo: (p.number, p.head_sha) for repo, p in pulls_of(request).items()}
    github.clear_log()

    open_pull_requests.delay(request.pk)
    wait_for(
        lambda: TaskRun.objects.filter(request=request, outcome="succeeded").count() == 2,
        what="second run",
    )
    for full in (INFRA, DEPLOY):
        owner, name = full.split("/")
        calls = github.requests_for(owner, name)
        assert len(calls) <= 2, calls
        assert all(c.method in ("GET", "POST") for c in calls)  # reads (GraphQL is a POST)
    assert {repo: (p.number, p.head_sha) for repo, p in pulls_of(request).items()} == before


def test_enqueued_twice_gives_one_branch_and_one_pr_per_repository(
    github, github_cluster, approver
):
    from portal.celery import app as celery_app

    celery_app.control.purge()
    request = make_pending(github_cluster)
    approve(request, approver)  # enqueues once (on commit)
    open_pull_requests.delay(request.pk)  # and once more
    with running_worker(purge=False):
        wait_for(
            lambda: TaskRun.objects.filter(request=request).exclude(outcome="running").count() == 2,
            what="both runs",
        )
    assert len(pulls_of(request)) == 2
    for owner, name in (("platform", "kilonova"), ("platform", "deploy")):
        creates = [
            c
            for c in github.requests_for(owner, name)
            if c.method == "POST" and c.path.endswith("/pulls")
        ]
        assert len(creates) == 1


def test_a_502_is_retried_then_succeeds(github, worker, github_cluster, approver):
    github.inject("POST", r"/git/trees$", status=502, times=1)
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_opened(request)
    outcomes = list(
        TaskRun.objects.filter(request=request)
        .order_by("started_at")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["retrying", "succeeded"]
    assert "502" in TaskRun.objects.get(request=request, outcome="retrying").error


def test_a_secondary_rate_limit_is_honoured_then_succeeds(github, worker, github_cluster, approver):
    github.rate_limit_next("POST", r"/pulls$", retry_after=1)
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_opened(request)
    retrying = TaskRun.objects.get(request=request, outcome="retrying")
    assert retrying.detail["retry_in"] >= 1.0
    assert state_of(request) == RequestState.PROVISIONING


def test_a_missing_repository_fails_fast_with_the_reason(
    github, worker, github_cluster, approver, settings
):
    settings.PORTAL_INFRA_REPO = "platform/missing"
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_for(lambda: state_of(request) == RequestState.FAILED, what="failure")
    runs = list(TaskRun.objects.filter(request=request))
    assert [r.outcome for r in runs] == ["failed"]
    event = AuditEvent.objects.get(request=request, action="request.failed")
    assert "platform/missing" in event.message or "404" in event.message
    assert TOKEN not in event.message and TOKEN not in runs[0].error


def test_bad_credentials_fail_without_leaking_the_token(
    github, worker, github_cluster, approver, settings
):
    settings.GITHUB_TOKEN = "ghp_" + "WrongToken" * 3 + "zz"
    request = make_pending(github_cluster)
    approve(request, approver)
    wait_for(lambda: state_of(request) == RequestState.FAILED, what="failure")
    run = TaskRun.objects.get(request=request)
    assert "401" in run.error or "credentials" in run.error.lower()
    assert settings.GITHUB_TOKEN not in run.error


def test_the_sweeper_enqueues_approved_requests_whose_task_never_ran(
    github, worker, github_cluster, approver, settings
):
    import datetime

    from django.utils import timezone

    from secrets_app.models import AccessRequest
    from secrets_app.tasks.provisioning import requeue_stuck_requests

    settings.PORTAL_STUCK_MINUTES = 10
    # As if Redis was down at approval: approved, but no task ever ran.
    request = make_pending(github_cluster)
    long_ago = timezone.now() - datetime.timedelta(minutes=30)
    AccessRequest.objects.filter(pk=request.pk).update(
        state=RequestState.APPROVED, updated_at=long_ago
    )
    fresh = make_pending(github_cluster, requester=approver)
    AccessRequest.objects.filter(pk=fresh.pk).update(
        state=RequestState.APPROVED, service_account="other-secrets"
    )

    assert requeue_stuck_requests() == 1
    wait_opened(request)
    assert state_of(fresh) == RequestState.APPROVED  # recent: its own task may still come
