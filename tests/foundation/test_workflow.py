"""The workflow rules, one test each."""

import pytest

from secrets_app.events import bus
from secrets_app.models import AuditEvent, Decision, RequestState
from secrets_app.pagecache.tracking import PendingBump
from secrets_app.requests import workflow
from secrets_app.requests.workflow import WorkflowError
from tests.factories import GUIDE_ARN, AccessRequestFactory, ClusterFactory

pytestmark = pytest.mark.django_db


def _create(requester, cluster, submit=True):
    return workflow.request_create(
        requester=requester,
        cluster=cluster,
        service="data-access-service",
        namespace="deploy",
        workload_name="data-access-service",
        containers=["app"],
        service_account="data-access-service-secrets",
        mount_path="/mnt/secrets-store",
        justification="The service reads the RDS password.",
        secrets=[{"secret": GUIDE_ARN, "alias": "dcp-db-password"}],
        submit=submit,
    )


def test_create_submits_and_records_both_events(requester, cluster):
    request = _create(requester, cluster)
    assert request.state == RequestState.PENDING
    assert request.submitted_at is not None
    actions = list(request.audit_events.values_list("action", flat=True))
    assert actions == ["request.created", "request.submitted"]


def test_create_as_draft_then_submit(requester, cluster):
    request = _create(requester, cluster, submit=False)
    assert request.state == RequestState.DRAFT
    workflow.request_submit(request_id=request.pk, actor=requester)
    request.refresh_from_db()
    assert request.state == RequestState.PENDING


def test_only_the_requester_submits_a_draft(requester, other_user, cluster):
    request = _create(requester, cluster, submit=False)
    with pytest.raises(WorkflowError, match="Only the requester"):
        workflow.request_submit(request_id=request.pk, actor=other_user)


def test_create_refuses_inactive_cluster_and_leaves_nothing(requester):
    cluster = ClusterFactory(name="old", active=False)
    with pytest.raises(WorkflowError, match="takes no new requests"):
        _create(requester, cluster)
    assert not AuditEvent.objects.exists()


def test_create_without_secrets_leaves_nothing(requester, cluster):
    with pytest.raises(WorkflowError, match="at least one secret"):
        workflow.request_create(
            requester=requester,
            cluster=cluster,
            service="svc",
            namespace="deploy",
            workload_name="svc",
            containers=["app"],
            service_account="svc-secrets",
            mount_path="/mnt/secrets-store",
            justification="x",
            secrets=[],
        )
    assert not AuditEvent.objects.exists()
    assert not cluster.requests.exists()


def test_approve_moves_to_approved_with_one_required(requester, approver, cluster):
    request = _create(requester, cluster)
    workflow.request_approve(request_id=request.pk, approver=approver, comment="ok")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert request.decided_at is not None
    assert list(request.audit_events.values_list("action", flat=True))[-2:] == [
        "request.approval_recorded",
        "request.approved",
    ]


def test_nobody_approves_their_own_request(approver, cluster):
    request = _create(approver, cluster)
    with pytest.raises(WorkflowError, match="cannot approve your own request"):
        workflow.request_approve(request_id=request.pk, approver=approver)
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert not Decision.objects.exists()


def test_only_approvers_approve(requester, other_user, cluster):
    request = _create(requester, cluster)
    with pytest.raises(WorkflowError, match="Only members of the platform team"):
        workflow.request_approve(request_id=request.pk, approver=other_user)


def test_staff_without_the_group_cannot_approve(requester, admin_user, cluster):
    request = _create(requester, cluster)
    with pytest.raises(WorkflowError, match="Only members of the platform team"):
        workflow.request_approve(request_id=request.pk, approver=admin_user)


def test_prod_needs_two_distinct_approvers(requester, approver, second_approver, prod_cluster):
    request = _create(requester, prod_cluster)
    workflow.request_approve(request_id=request.pk, approver=approver)
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    with pytest.raises(WorkflowError, match="already approved"):
        workflow.request_approve(request_id=request.pk, approver=approver)
    workflow.request_approve(request_id=request.pk, approver=second_approver)
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert request.decisions.count() == 2


def test_reject_needs_a_reason(requester, approver, cluster):
    request = _create(requester, cluster)
    with pytest.raises(WorkflowError, match="needs a reason"):
        workflow.request_reject(request_id=request.pk, approver=approver, reason="  ")
    workflow.request_reject(request_id=request.pk, approver=approver, reason="Use the RO secret.")
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    event = request.audit_events.get(action="request.rejected")
    assert event.message == "Use the RO secret."


def test_no_decision_after_the_request_is_decided(requester, approver, second_approver, cluster):
    request = _create(requester, cluster)
    workflow.request_approve(request_id=request.pk, approver=approver)
    with pytest.raises(WorkflowError, match="only pending requests can be rejected"):
        workflow.request_reject(request_id=request.pk, approver=second_approver, reason="late")
    with pytest.raises(WorkflowError, match="only pending requests can be approved"):
        workflow.request_approve(request_id=request.pk, approver=second_approver)


def test_requester_cancels_while_pending_only(requester, approver, cluster):
    request = _create(requester, cluster)
    workflow.request_cancel(request_id=request.pk, actor=requester)
    request.refresh_from_db()
    assert request.state == RequestState.CANCELLED
    other = AccessRequestFactory(requester=requester, cluster=cluster, state=RequestState.APPROVED)
    with pytest.raises(WorkflowError, match="only draft or pending requests can be cancelled"):
        workflow.request_cancel(request_id=other.pk, actor=requester)


def test_others_cannot_cancel(requester, approver, cluster):
    request = _create(requester, cluster)
    with pytest.raises(WorkflowError, match="Only the requester can cancel"):
        workflow.request_cancel(request_id=request.pk, actor=approver)


def test_comment_rules(requester, approver, other_user, cluster):
    request = _create(requester, cluster)
    workflow.request_comment(request_id=request.pk, author=requester, body="Any news?")
    workflow.request_comment(request_id=request.pk, author=approver, body="Looking.")
    with pytest.raises(WorkflowError, match="cannot be empty"):
        workflow.request_comment(request_id=request.pk, author=requester, body=" ")
    with pytest.raises(WorkflowError, match="Only the requester and the platform team"):
        workflow.request_comment(request_id=request.pk, author=other_user, body="hi")
    assert request.comments.count() == 2
    assert request.audit_events.filter(action="request.commented").count() == 2


def test_unknown_request_is_refused(approver):
    with pytest.raises(WorkflowError, match="does not exist"):
        workflow.request_approve(request_id=999999, approver=approver)


def test_approval_hooks_run_only_after_commit(
    requester, approver, cluster, django_capture_on_commit_callbacks
):
    seen = []
    with bus.listening("request.approved", lambda event: seen.append(event.request_id)):
        request = _create(requester, cluster)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            workflow.request_approve(request_id=request.pk, approver=approver)
        assert seen == []
        for callback in callbacks:
            callback()
        assert seen == [request.pk]


def test_no_hook_when_approval_is_partial(
    requester, approver, prod_cluster, django_capture_on_commit_callbacks
):
    request = _create(requester, prod_cluster)
    with django_capture_on_commit_callbacks() as callbacks:
        workflow.request_approve(request_id=request.pk, approver=approver)
    # The page cache's generations move with any commit; no follow-up hook runs.
    assert [c for c in callbacks if not isinstance(c, PendingBump)] == []
