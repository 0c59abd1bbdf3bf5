"""Revocation: asked for on the binding page, approved under the grant's
rules, carried out by pull requests that delete the grant's files (a real
worker against the loopback GitHub); when both are merged the binding waits,
revoking, for the cluster and AWS to confirm."""

import pytest
from django.db import transaction
from django.urls import reverse

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    BindingState,
    PullRequest,
    RequestKind,
    RequestState,
)
from secrets_app.requests import provisioning, revocation, workflow
from tests.factories import BindingFactory, BindingSecretFactory, ClusterFactory
from tests.inventory.revocation_support import imported_binding, local_cluster, repository_files
from tests.support.access_requests import approve, make_pending
from tests.support.github import DEPLOY, INFRA
from tests.support.waiting import wait_for

HOSTILE = '<script>alert("x")</script> ${file("/etc/passwd")} \n: - [x]'


def _merge_all(fake, request):
    for pull in request.pull_requests.all():
        owner, name = pull.repo_name.split("/")
        fake.merge_pull(owner, name, pull.number)
    provisioning.refresh_pull_requests(request)


def _open_prs(request, purpose):
    return wait_for(
        lambda: PullRequest.objects.filter(request=request, purpose=purpose).count() == 2,
        what=f"both {purpose} pull requests",
    )


@pytest.mark.django_db(transaction=True)
def test_grant_then_revoke_end_to_end(
    github, worker, github_cluster, requester, approver, second_approver
):
    grant = make_pending(github_cluster, requester=requester)
    approve(grant, approver)
    _open_prs(grant, "grant")
    _merge_all(github, grant)
    binding = Binding.objects.get(request=grant)
    assert binding.owner == requester
    infra_paths = set(github.branch_files(*INFRA.split("/"), "main")) - {"README.md"}
    deploy_paths = set(github.branch_files(*DEPLOY.split("/"), "main")) - {"README.md"}
    assert infra_paths and deploy_paths

    # An approver asks; nobody approves their own request, revocations included.
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=binding.pk, requester=approver, reason="service retired"
        )
    assert revoke.kind == RequestKind.REVOKE and revoke.state == RequestState.PENDING
    with pytest.raises(workflow.WorkflowError, match="own request"):
        approve(revoke, approver)
    approve(revoke, second_approver)
    binding.refresh_from_db()
    assert binding.state == BindingState.REVOKING
    assert AccessRequest.objects.get(pk=grant.pk).state == RequestState.REVOKING

    _open_prs(revoke, "revoke")
    pulls = {p.repository: p for p in revoke.pull_requests.all()}
    assert {p.branch for p in pulls.values()} == {f"portal/revoke-{revoke.pk}"}
    # The revoke branches hold the base minus exactly the grant's files.
    assert set(github.branch_files(*INFRA.split("/"), pulls["infra"].branch)) == {"README.md"}
    assert set(github.branch_files(*DEPLOY.split("/"), pulls["deploy"].branch)) == {"README.md"}
    body = github.pull(*INFRA.split("/"), pulls["infra"].number)["body"]
    assert "Files removed:" in body and "merged and rolled out" in body
    assert all(f"`{p}`" in body for p in infra_paths)

    # Merged is not gone: the binding waits, revoking, for a sweep and an AWS
    # check to confirm (tests/revocation_end covers the rest of the way).
    _merge_all(github, revoke)
    binding.refresh_from_db()
    assert binding.state == BindingState.REVOKING and binding.revoked_at is None
    assert binding.removal_merged_at is not None
    assert binding.standing.waiting_for == "waiting for the cluster / AWS"
    assert AccessRequest.objects.get(pk=grant.pk).state == RequestState.REVOKING
    assert AccessRequest.objects.get(pk=revoke.pk).state == RequestState.REVOKING
    assert set(github.branch_files(*INFRA.split("/"), "main")) == {"README.md"}
    actions = set(AuditEvent.objects.filter(request=revoke).values_list("action", flat=True))
    assert {
        "binding.revocation_requested",
        "binding.revoking",
        "request.removal_merged",
        "binding.removal_merged",
    } <= actions
    assert "binding.revoked" not in actions


@pytest.fixture
def live_binding(db, requester):
    grant = make_pending(ClusterFactory(), requester=requester)
    grant.state = RequestState.ACTIVE
    grant.save()
    binding = BindingFactory(request=grant, cluster=grant.cluster, owner=requester)
    BindingSecretFactory(binding=binding)
    return binding


def test_owner_asks_on_the_binding_page(client, requester, live_binding):
    client.force_login(requester)
    page = client.get(live_binding.get_absolute_url())
    assert b"Ask to revoke" in page.content
    response = client.post(reverse("binding-revoke", args=[live_binding.pk]), {"reason": HOSTILE})
    revoke = AccessRequest.objects.get(revokes=live_binding)
    assert response.status_code == 302 and response.url == revoke.get_absolute_url()
    page = client.get(revoke.get_absolute_url())
    assert b"<script>alert" not in page.content and b"&lt;script&gt;" in page.content
    assert b"Files the pull requests will delete" in page.content
    assert revoke.justification == HOSTILE.strip()
    assert list(revoke.secrets.values_list("alias", flat=True)) == list(
        live_binding.request.secrets.values_list("alias", flat=True)
    )
    # A second revocation while the first is open is refused, and says which.
    again = client.post(reverse("binding-revoke", args=[live_binding.pk]), {"reason": "again"})
    assert again.status_code == 409
    assert f"Revocation request #{revoke.pk}".encode() in again.content
    assert AccessRequest.objects.filter(revokes=live_binding).count() == 1


def test_others_cannot_ask_and_see_no_button(client, other_user, live_binding):
    client.force_login(other_user)
    assert b"Ask to revoke" not in client.get(live_binding.get_absolute_url()).content
    response = client.post(reverse("binding-revoke", args=[live_binding.pk]), {"reason": "x"})
    assert response.status_code == 403
    assert not AccessRequest.objects.filter(revokes=live_binding).exists()


def test_approver_may_ask_and_reason_is_required(client, approver, live_binding):
    client.force_login(approver)
    empty = client.post(reverse("binding-revoke", args=[live_binding.pk]), {"reason": "  "})
    assert empty.status_code == 400 and b"This field is required" in empty.content
    assert not AccessRequest.objects.filter(revokes=live_binding).exists()
    ok = client.post(reverse("binding-revoke", args=[live_binding.pk]), {"reason": "audit"})
    assert ok.status_code == 302


def test_missing_binding_is_404(client, requester):
    client.force_login(requester)
    assert client.post(reverse("binding-revoke", args=[999999]), {"reason": "x"}).status_code == 404


def test_rejected_or_cancelled_revocation_leaves_the_binding_active(
    requester, approver, live_binding
):
    with transaction.atomic():
        first = revocation.request_revocation(
            binding_id=live_binding.pk, requester=requester, reason="maybe"
        )
    workflow.request_reject(request_id=first.pk, approver=approver, reason="still used")
    with transaction.atomic():
        second = revocation.request_revocation(
            binding_id=live_binding.pk, requester=requester, reason="really"
        )
    workflow.request_cancel(request_id=second.pk, actor=requester)
    live_binding.refresh_from_db()
    assert live_binding.state == BindingState.ACTIVE


def test_revoked_binding_cannot_be_revoked_again(requester, live_binding):
    live_binding.state = BindingState.REVOKED
    live_binding.save()
    with pytest.raises(workflow.WorkflowError, match="only active bindings"):
        revocation.request_revocation(binding_id=live_binding.pk, requester=requester, reason="x")


def test_imported_binding_revocation_names_its_files(settings, tmp_path, approver):
    binding = imported_binding(local_cluster(settings, tmp_path, repository_files()))
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=binding.pk, requester=approver, reason="adopted then retired"
        )
    assert revoke.service == binding.service
    assert revoke.service_account == binding.service_account
    assert sorted(revoke.secrets.values_list("alias", flat=True)) == sorted(
        binding.secrets.values_list("alias", flat=True)
    )
    assert revoke.role_name == binding.role_arn.rsplit("/", 1)[-1]


def test_api_revoke(client, requester, other_user, live_binding):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(other_user)
    url = f"/api/bindings/{live_binding.pk}/revoke/"
    assert api.post(url, {"reason": "x"}, format="json").status_code == 403
    api.force_authenticate(requester)
    assert api.post(url, {}, format="json").status_code == 400
    made = api.post(url, {"reason": "done with it"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["kind"] == "revoke" and made.json()["revokes"] == live_binding.pk
    # Activated before bindings recorded their files: the grant's rendered paths.
    assert set(made.json()["deletes"]) == {"infra", "deploy"}
    again = api.post(url, {"reason": "again"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    assert (
        api.post("/api/bindings/999999/revoke/", {"reason": "x"}, format="json").status_code == 404
    )


def test_a_run_left_running_by_a_lost_worker_says_so(client, approver, live_binding):
    import datetime

    from django.utils import timezone

    from secrets_app.models import TaskRun

    request = live_binding.request
    request.state = RequestState.PROVISIONING
    request.save()
    run = TaskRun.objects.create(kind="open_prs", request=request)
    TaskRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    client.force_login(approver)
    page = client.get(request.get_absolute_url()).content.decode()
    assert "Lost (its worker stopped" in page


def test_timeline_words_revocation_events(client, requester, approver, live_binding):
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=live_binding.pk, requester=requester, reason="retired"
        )
    with transaction.atomic():
        workflow.request_approve(request_id=revoke.pk, approver=approver)
    client.force_login(requester)
    page = client.get(revoke.get_absolute_url()).content.decode()
    assert "asked to revoke" in page and f"binding #{live_binding.pk}" in page
    assert "the binding is being removed" in page
    assert "binding.revocation_requested" not in page


def test_imported_binding_revocation_pr_says_where_its_files_came_from(
    settings, tmp_path, approver
):
    from secrets_app.requests import pr_text

    binding = imported_binding(local_cluster(settings, tmp_path, repository_files()))
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=binding.pk, requester=approver, reason="retired"
        )
    for repository in ("infra", "deploy"):
        body = pr_text.body(revoke, repository, ["a.yaml"], other=None, purpose="revoke")
        assert "imported from the cluster" in body and "Files removed:" in body
