"""Following the pull requests to merge: webhooks, the poll, closed PRs, the
local backend's merge button, and the progress fragment."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import AuditEvent, Binding, PullRequest, RequestState, TaskRun
from secrets_app.tasks.provisioning import poll_pull_requests
from tests.factories import ClusterFactory
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.github import WEBHOOK_SECRET, send_webhook, signed
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def opened(request):
    wait_for(
        lambda: (
            PullRequest.objects.filter(request=request).count() == 2
            and TaskRun.objects.filter(request=request, outcome="succeeded").exists()
        ),
        what="pull requests",
    )
    return {p.repository: p for p in PullRequest.objects.filter(request=request)}


def test_webhooks_for_both_merges_activate_the_request(github, worker, github_cluster, approver):
    request = make_pending(github_cluster)
    approve(request, approver)
    pulls = opened(request)
    assert send_webhook(pulls["infra"], merged=True).status_code == 200
    assert state_of(request) == RequestState.PROVISIONING
    assert send_webhook(pulls["deploy"], merged=True).status_code == 200
    assert state_of(request) == RequestState.ACTIVE
    binding = Binding.objects.get(request=request)
    assert binding.source == "portal"
    assert binding.service_account == "data-access-service-secrets"
    assert binding.role_arn.startswith("arn:aws:iam::287796791794:role/")
    assert list(binding.secrets.values_list("alias", flat=True)) == ["dcp-db-password"]
    # A repeated delivery changes nothing.
    assert send_webhook(pulls["deploy"], merged=True).status_code == 200
    assert Binding.objects.count() == 1


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=" + "0" * 64, 401), ("sha1=abc", 401), ("good", 200)],
)
def test_webhook_signature_is_required(github_cluster, settings, signature, status):
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    request = make_pending(github_cluster)
    pull = PullRequest.objects.create(
        request=request,
        repository="infra",
        repo_name="platform/kilonova",
        branch="b",
        number=7,
        url="https://github.example/7",
    )
    response = send_webhook(pull, merged=True, signature=signature)
    assert response.status_code == status
    pull.refresh_from_db()
    assert pull.state == ("merged" if status == 200 else "open")


def test_webhook_rejects_garbage_and_ignores_unknown_prs(github_cluster, settings):
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    body = b"not json"
    client = Client()
    url = reverse("github-webhook")
    headers = {"HTTP_X_GITHUB_EVENT": "pull_request", "HTTP_X_HUB_SIGNATURE_256": signed(body)}
    assert client.post(url, body, content_type="application/json", **headers).status_code == 400
    other = json.dumps(
        {"repository": {"full_name": "x/y"}, "pull_request": {"number": 1, "merged": True}}
    ).encode()
    headers["HTTP_X_HUB_SIGNATURE_256"] = signed(other)
    response = client.post(url, other, content_type="application/json", **headers)
    assert response.json() == {"ignored": "not a portal pull request"}


def test_poll_notices_merges_when_webhooks_are_missed(github, worker, github_cluster, approver):
    request = make_pending(github_cluster)
    approve(request, approver)
    pulls = opened(request)
    github.merge_pull("platform", "kilonova", pulls["infra"].number)
    github.merge_pull("platform", "deploy", pulls["deploy"].number)
    assert poll_pull_requests() == 2
    assert state_of(request) == RequestState.ACTIVE
    assert poll_pull_requests() == 0


def test_a_pr_closed_unmerged_needs_attention_and_retry_opens_a_new_one(
    github, worker, github_cluster, approver
):
    request = make_pending(github_cluster)
    approve(request, approver)
    pulls = opened(request)
    github.close_pull("platform", "deploy", pulls["deploy"].number)
    send_webhook(pulls["deploy"], merged=False)
    assert state_of(request) == RequestState.NEEDS_ATTENTION
    assert AuditEvent.objects.filter(request=request, action="request.needs_attention").exists()

    client = Client()
    client.force_login(approver)
    page = client.get(request.get_absolute_url()).content.decode()
    assert "closed without merging" in page
    client.post(reverse("request-retry", args=[request.pk]))
    wait_for(
        lambda: (
            PullRequest.objects.get(request=request, repository="deploy").number
            != pulls["deploy"].number
        ),
        what="a new deploy pull request",
    )
    assert state_of(request) == RequestState.PROVISIONING


def test_local_backend_merge_button_activates_the_request(tmp_path, settings, approver, requester):
    from secrets_app.requests import provisioning

    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    cluster = ClusterFactory(name="janus-local", repo_backend="local")
    request = make_pending(cluster, requester=requester)
    approve(request, approver)  # no worker here: run the service inline
    provisioning.open_pull_requests(request.pk)
    client = Client()
    client.force_login(approver)
    for pull in PullRequest.objects.filter(request=request).order_by("repository").reverse():
        response = client.post(reverse("pull-request-merge", args=[pull.pk]))
        assert response.status_code == 302
    assert state_of(request) == RequestState.ACTIVE
    page = client.get(reverse("request-progress", args=[request.pk])).content.decode()
    assert "binding" in page and "Merged" in page


def test_only_the_platform_team_merges(tmp_path, settings, approver, requester):
    from secrets_app.requests import provisioning

    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    request = make_pending(
        ClusterFactory(name="janus-local", repo_backend="local"), requester=requester
    )
    approve(request, approver)
    provisioning.open_pull_requests(request.pk)
    client = Client()
    client.force_login(requester)
    pull = PullRequest.objects.filter(request=request).first()
    client.post(reverse("pull-request-merge", args=[pull.pk]))
    pull.refresh_from_db()
    assert pull.state == "open"
