"""The pull-request lifecycle on a real timeline: a person merges one pull
request hours after the portal opened it, webhooks are lost, replayed or
late, and the portal's periodic jobs run in between. Each test here failed
before its fix (issue #15); the clock is moved with time-machine and the
tasks run in this process (``apply``), as a worker would run them.
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    BindingSource,
    PullRequest,
    RequestState,
    TaskRun,
)
from secrets_app.requests import workflow
from secrets_app.tasks.provisioning import (
    open_pull_requests,
    poll_pull_requests,
    requeue_stuck_requests,
)
from secrets_app.tasks.runs import ending
from tests.factories import BindingFactory, ClusterFactory
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.celery_worker import emptied_broker
from tests.support.github import signed

pytestmark = pytest.mark.django_db(transaction=True)

_deliveries = itertools.count(1)


@pytest.fixture(autouse=True)
def broker():
    """Approvals queue the task in Redis; these tests run it themselves."""
    with emptied_broker("portal:lock:*"):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def run_task(request: AccessRequest) -> str:
    return open_pull_requests.apply(args=[request.pk]).get()


def opened(request: AccessRequest, approver) -> dict[str, PullRequest]:
    approve(request, approver)
    assert run_task(request) == "opened"
    return {p.repository: p for p in PullRequest.objects.filter(request=request)}


def deliver(payload: dict, *, delivery: str | None = None):
    """GitHub's pull_request webhook for ``payload``, signed, with a delivery id."""
    body = json.dumps(payload).encode()
    return Client().post(
        reverse("github-webhook"),
        body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="pull_request",
        HTTP_X_HUB_SIGNATURE_256=signed(body),
        HTTP_X_GITHUB_DELIVERY=delivery or f"delivery-{next(_deliveries)}",
    )


def remote_pulls(github, repo: str) -> list[dict]:
    return github.pulls_of("platform", repo)


def open_remote(github, repo: str) -> list[int]:
    return [p["number"] for p in remote_pulls(github, repo) if p["state"] == "open"]


# --- merged pull requests are final ----------------------------------------


def test_waiting_for_a_merge_is_not_stuck(github, github_cluster, approver, settings, clock):
    """Deploy merged, infra waits for a person: the requeue job leaves it be
    for days, opening no pull request and sending no mail."""
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    github.merge_pull("platform", "deploy", pulls["deploy"].number)
    closed = github.webhook_payload("platform", "deploy", pulls["deploy"].number, "closed")
    assert deliver(closed).status_code == 200
    mails = len(mail.outbox)
    for _ in range(12 * 24):  # a day of 5-minute runs
        clock.shift(datetime.timedelta(minutes=5))
        assert requeue_stuck_requests() == 0
    assert len(remote_pulls(github, "deploy")) == 1
    assert len(remote_pulls(github, "kilonova")) == 1
    assert len(mail.outbox) == mails
    assert state_of(request) == RequestState.PROVISIONING


def test_a_rerun_after_a_merge_nobody_reported_records_it(github, github_cluster, approver):
    """The webhook was lost; a re-run (redelivered task, admin retry) finds
    the merge instead of failing on GitHub's 422 "No commits between"."""
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    github.merge_pull("platform", "kilonova", pulls["infra"].number)
    assert run_task(request) == "opened"
    assert state_of(request) == RequestState.PROVISIONING
    assert PullRequest.objects.get(pk=pulls["infra"].pk).state == "merged"
    assert [p["number"] for p in remote_pulls(github, "kilonova")] == [pulls["infra"].number]
    assert not any(e.status == 422 for e in github.log)


def test_a_merged_branch_deleted_is_not_opened_again(github, github_cluster, approver):
    """GitHub deleted the head branch after the merge, and the portal had not
    recorded the pull request (the worker died): a re-run finds the merged
    pull request instead of opening a new, empty one."""
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    github.merge_pull("platform", "deploy", pulls["deploy"].number)
    github.delete_branch("platform", "deploy", pulls["deploy"].branch)
    PullRequest.objects.filter(pk=pulls["deploy"].pk).delete()  # never recorded
    assert run_task(request) == "opened"
    assert [p["number"] for p in remote_pulls(github, "deploy")] == [pulls["deploy"].number]
    deploy = PullRequest.objects.get(request=request, repository="deploy")
    assert (deploy.number, deploy.state) == (pulls["deploy"].number, "merged")


def test_both_merged_while_a_retry_waited_activates_on_the_rerun(github, github_cluster, approver):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    github.close_pull("platform", "deploy", pulls["deploy"].number)
    deliver(github.webhook_payload("platform", "deploy", pulls["deploy"].number, "closed"))
    assert state_of(request) == RequestState.NEEDS_ATTENTION
    workflow.request_retry(request_id=request.pk, actor=approver)
    # Before the retry's run: the infra PR merges, nobody is told.
    github.merge_pull("platform", "kilonova", pulls["infra"].number)
    assert run_task(request) == "opened"
    deploy = PullRequest.objects.get(request=request, repository="deploy")
    assert deploy.number != pulls["deploy"].number and deploy.state == "open"
    github.merge_pull("platform", "deploy", deploy.number)
    assert run_task(request) == "nothing to do" or state_of(request) == RequestState.ACTIVE
    poll_pull_requests.apply().get()
    assert state_of(request) == RequestState.ACTIVE


def test_local_git_rerun_after_merge_opens_nothing(tmp_path, settings, approver, requester):
    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    cluster = ClusterFactory(name="janus-local", repo_backend="local")
    request = make_pending(cluster, requester=requester)
    pulls = opened(request, approver)
    backend = LocalGitBackend(tmp_path / "deploy.git")
    backend.merge_pull_request(pulls["deploy"].number)  # merged, nobody told
    assert run_task(request) == "opened"
    assert PullRequest.objects.get(pk=pulls["deploy"].pk).state == "merged"
    with pytest.raises(Exception, match="no pull request"):
        backend.get_pull_request(pulls["deploy"].number + 1)


# --- the requeue job ----------------------------------------------------------


def test_requeue_takes_a_task_that_died_without_finishing(
    github, github_cluster, approver, settings, clock
):
    request = make_pending(github_cluster)
    approve(request, approver)
    workflow.request_start_provisioning(request_id=request.pk)
    TaskRun.objects.create(kind="open_prs", request=request)  # its worker was killed
    clock.shift(datetime.timedelta(minutes=settings.PORTAL_STUCK_MINUTES + 1))
    assert requeue_stuck_requests() == 0  # the run may still be going
    clock.shift(TaskRun.LOST_AFTER)
    assert requeue_stuck_requests() == 1


def test_an_outage_longer_than_the_retries_does_not_fail_the_request(
    github, github_cluster, approver, settings, clock
):
    """GitHub answers 502 through every retry: the request stays
    provisioning, and the requeue job runs it again once GitHub is back."""
    request = make_pending(github_cluster)
    approve(request, approver)
    github.inject(
        "POST", r"^/api/graphql$", status=502, times=settings.PORTAL_TASK_MAX_ATTEMPTS + 1
    )
    assert run_task(request) == "retry later"
    assert state_of(request) == RequestState.PROVISIONING
    assert TaskRun.objects.filter(request=request).latest("id").outcome == "failed"
    clock.shift(datetime.timedelta(minutes=settings.PORTAL_STUCK_MINUTES + 1))
    assert requeue_stuck_requests() == 1
    assert run_task(request) == "opened"
    assert len(open_remote(github, "kilonova")) == len(open_remote(github, "deploy")) == 1


# --- one bad request does not stop the others ----------------------------------


def test_one_request_that_cannot_be_recorded_does_not_stop_the_poll(
    github, github_cluster, approver
):
    """Request A's ServiceAccount was imported meanwhile: recording its
    binding hits the unique constraint. The poll records A's merges, sends
    A to a person with the reason, and activates B."""
    a = make_pending(github_cluster)
    b = make_pending(github_cluster)
    AccessRequest.objects.filter(pk=b.pk).update(
        service="other-service", workload_name="other-service", service_account="other-sa"
    )
    pulls_a, pulls_b = opened(a, approver), opened(b, approver)
    BindingFactory(
        cluster=github_cluster,
        namespace=a.namespace,
        service_account=a.service_account,
        source=BindingSource.IMPORTED,
        request=None,
    )
    for pulls in (pulls_a, pulls_b):
        github.merge_pull("platform", "kilonova", pulls["infra"].number)
        github.merge_pull("platform", "deploy", pulls["deploy"].number)
    assert poll_pull_requests.apply().get() == 4
    assert state_of(a) == RequestState.NEEDS_ATTENTION
    assert state_of(b) == RequestState.ACTIVE
    event = AuditEvent.objects.filter(request=a, action="request.needs_attention").get()
    assert "could not record" in event.message
    client = Client()
    client.force_login(approver)
    page = client.get(a.get_absolute_url()).content.decode()
    assert "could not record the result" in page and "one_live_binding" in page
    assert set(PullRequest.objects.filter(request=a).values_list("state", flat=True)) == {"merged"}


def test_the_webhook_answers_200_when_the_binding_cannot_be_recorded(
    github, github_cluster, approver
):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    BindingFactory(
        cluster=github_cluster,
        namespace=request.namespace,
        service_account=request.service_account,
        source=BindingSource.IMPORTED,
        request=None,
    )
    for repo, pull in (("kilonova", pulls["infra"]), ("deploy", pulls["deploy"])):
        github.merge_pull("platform", repo, pull.number)
        response = deliver(github.webhook_payload("platform", repo, pull.number, "closed"))
        assert response.status_code == 200
    assert state_of(request) == RequestState.NEEDS_ATTENTION


def test_a_poll_that_fails_for_one_request_is_recorded_on_its_page(
    github, github_cluster, approver
):
    a, b = make_pending(github_cluster), make_pending(github_cluster)
    AccessRequest.objects.filter(pk=b.pk).update(
        service="other-service", workload_name="other-service", service_account="other-sa"
    )
    pulls_a, pulls_b = opened(a, approver), opened(b, approver)
    github.merge_pull("platform", "kilonova", pulls_b["infra"].number)
    # A's repository answers garbage for its pull request: not an outage.
    github.inject("GET", rf"/pulls/{pulls_a['infra'].number}$", status=200, times=1)
    poll_pull_requests.apply().get()
    assert PullRequest.objects.get(pk=pulls_b["infra"].pk).state == "merged"
    failed = TaskRun.objects.get(request=a, kind="poll_prs")
    assert failed.outcome == "failed" and failed.error


# --- every exception ends its run ----------------------------------------------


def test_an_unexpected_error_ends_the_run_and_fails_the_request(github, github_cluster, approver):
    request = make_pending(github_cluster)
    approve(request, approver)
    # A GraphQL answer missing what GitHub always sends: a bug to look at.
    github.inject(
        "POST",
        r"^/api/graphql$",
        status=200,
        payload={"data": {"repository": {"base": {"target": {}}}}},
    )
    assert run_task(request) == "failed"
    run = TaskRun.objects.get(request=request, kind="open_prs")
    assert run.outcome == "failed" and "unexpected error" in run.error
    assert state_of(request) == RequestState.FAILED


def test_every_task_run_ends_when_an_exception_escapes():
    run = TaskRun.objects.create(kind="expiry")
    with pytest.raises(KeyError), ending(run):
        raise KeyError("a bug")
    run.refresh_from_db()
    assert run.outcome == "failed" and "KeyError" in run.error and run.finished_at


# --- GitHub's GraphQL limits ---------------------------------------------------


def test_a_graphql_rate_limit_is_retried(github, github_cluster, approver):
    request = make_pending(github_cluster)
    approve(request, approver)
    github.graphql_error_next(type="RATE_LIMITED", message="API rate limit exceeded", retry_after=0)
    assert run_task(request) == "opened"
    outcomes = list(
        TaskRun.objects.filter(request=request).order_by("id").values_list("outcome", flat=True)
    )
    assert outcomes == ["retrying", "succeeded"]
    assert state_of(request) == RequestState.PROVISIONING


# --- webhooks: monotonic, once per delivery ------------------------------------


def test_an_old_opened_event_replayed_after_the_merge_changes_nothing(
    github, github_cluster, approver
):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    number = pulls["infra"].number
    old = github.webhook_payload("platform", "kilonova", number, "opened")
    github.merge_pull("platform", "kilonova", number)
    deliver(github.webhook_payload("platform", "kilonova", number, "closed"))
    assert deliver(old).status_code == 200
    assert deliver(old, delivery="replayed-with-another-id").status_code == 200
    old["action"] = "reopened"  # even a reopen cannot undo a merge
    deliver(old)
    assert PullRequest.objects.get(pk=pulls["infra"].pk).state == "merged"
    actions = AuditEvent.objects.filter(
        object_type="pullrequest", object_id=str(pulls["infra"].pk)
    ).values_list("action", flat=True)
    assert list(actions).count("pull_request.merged") == 1


def test_a_late_close_does_not_undo_a_reopen(github, github_cluster, approver):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    number = pulls["deploy"].number
    github.close_pull("platform", "deploy", number)
    closed = github.webhook_payload("platform", "deploy", number, "closed")
    github.reopen_pull("platform", "deploy", number)
    deliver(github.webhook_payload("platform", "deploy", number, "reopened"))
    assert deliver(closed).status_code == 200  # delivered late
    assert PullRequest.objects.get(pk=pulls["deploy"].pk).state == "open"
    assert state_of(request) == RequestState.PROVISIONING


def test_close_then_reopen_needs_attention_then_goes_on(github, github_cluster, approver):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    number = pulls["deploy"].number
    github.close_pull("platform", "deploy", number)
    deliver(github.webhook_payload("platform", "deploy", number, "closed"))
    assert state_of(request) == RequestState.NEEDS_ATTENTION
    github.reopen_pull("platform", "deploy", number)
    deliver(github.webhook_payload("platform", "deploy", number, "reopened"))
    assert state_of(request) == RequestState.PROVISIONING


def test_the_poll_sees_a_reopen_nobody_reported(github, github_cluster, approver):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    number = pulls["deploy"].number
    github.close_pull("platform", "deploy", number)
    closed = github.webhook_payload("platform", "deploy", number, "closed")
    deliver(closed)
    assert state_of(request) == RequestState.NEEDS_ATTENTION
    github.reopen_pull("platform", "deploy", number)
    poll_pull_requests.apply().get()
    assert state_of(request) == RequestState.PROVISIONING
    # The close again, late or replayed: older than what the poll read.
    deliver(closed)
    assert PullRequest.objects.get(pk=pulls["deploy"].pk).state == "open"
    assert state_of(request) == RequestState.PROVISIONING


def test_a_redelivery_is_applied_once(github, github_cluster, approver):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    number = pulls["deploy"].number
    github.close_pull("platform", "deploy", number)
    closed = github.webhook_payload("platform", "deploy", number, "closed")
    assert deliver(closed, delivery="d-1").json()["state"] == "closed"
    github.reopen_pull("platform", "deploy", number)
    deliver(github.webhook_payload("platform", "deploy", number, "reopened"), delivery="d-2")
    # GitHub's "Redeliver" button sends the same delivery id again.
    assert deliver(closed, delivery="d-1").json() == {"ignored": "delivery already handled"}
    assert PullRequest.objects.get(pk=pulls["deploy"].pk).state == "open"


@pytest.mark.parametrize("header", ["sha256=é" + "0" * 63, "sha256=\u0661" * 2, "ß"])
def test_a_non_ascii_signature_is_refused_not_a_500(settings, header):
    settings.GITHUB_WEBHOOK_SECRET = "webhook-secret-for-tests"
    response = Client().generic(
        "POST",
        reverse("github-webhook"),
        b"{}",
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="pull_request",
        HTTP_X_HUB_SIGNATURE_256=header,
    )
    assert response.status_code == 401


# --- one lock order --------------------------------------------------------------


def test_a_pr_update_locks_the_request_before_the_pull_request(github, github_cluster, approver):
    """With the request row held by another transaction (a re-run recording
    its pull requests), a webhook's update waits *before* locking the pull
    request: the pull request stays free, so the two cannot deadlock."""
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    holder_ready, release = threading.Event(), threading.Event()
    waiting_done = threading.Event()

    def hold_request():
        with transaction.atomic():
            AccessRequest.objects.select_for_update().get(pk=request.pk)
            holder_ready.set()
            release.wait(10)
        connection.close()

    def webhook_update():
        workflow.pull_request_update_state(pull_id=pulls["infra"].pk, state="merged")
        waiting_done.set()
        connection.close()

    holder = threading.Thread(target=hold_request)
    holder.start()
    assert holder_ready.wait(10)
    updater = threading.Thread(target=webhook_update)
    updater.start()
    assert not waiting_done.wait(0.5)  # blocked on the request
    with transaction.atomic():
        free = PullRequest.objects.select_for_update(nowait=True, of=("self",)).filter(
            pk=pulls["infra"].pk
        )
        assert len(list(free)) == 1  # not locked by the waiting update
    release.set()
    holder.join(10)
    updater.join(10)
    assert waiting_done.is_set()


# --- the two repositories differ -------------------------------------------------


def test_a_cluster_cannot_use_one_repository_for_both(db):
    from django.core.exceptions import ValidationError

    cluster = ClusterFactory.build(infra_repo="platform/kilonova", deploy_repo="platform/kilonova")
    with pytest.raises(ValidationError) as refused:
        cluster.full_clean()
    assert "deploy_repo" in refused.value.message_dict


def test_settings_that_name_one_repository_fail_the_run_with_the_reason(
    github, github_cluster, approver, settings
):
    settings.PORTAL_DEPLOY_REPO = settings.PORTAL_INFRA_REPO
    request = make_pending(github_cluster)
    approve(request, approver)
    assert run_task(request) == "failed"
    assert "both platform/kilonova" in TaskRun.objects.get(request=request).error
    assert not remote_pulls(github, "kilonova")


def test_a_binding_records_the_files_its_pull_requests_wrote(github, github_cluster, approver):
    request = make_pending(github_cluster)
    pulls = opened(request, approver)
    for repo, pull in (("kilonova", pulls["infra"]), ("deploy", pulls["deploy"])):
        github.merge_pull("platform", repo, pull.number)
        deliver(github.webhook_payload("platform", repo, pull.number, "closed"))
    binding = Binding.objects.get(request=request)
    assert binding.files == {
        "infra": PullRequest.objects.get(pk=pulls["infra"].pk).paths,
        "deploy": PullRequest.objects.get(pk=pulls["deploy"].pk).paths,
    }
    assert any(p.endswith(".tf") for p in binding.files["infra"])
    assert any(p.endswith("kustomization.yaml") for p in binding.files["deploy"])
    assert timezone.now() - binding.created_at < datetime.timedelta(minutes=1)
