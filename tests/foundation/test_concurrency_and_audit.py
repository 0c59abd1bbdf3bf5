"""Guarded transitions under real concurrency, and the audit log's promises."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from secrets_app.events.audit import audit_record
from secrets_app.models import AuditEvent, Decision, RequestState
from secrets_app.models.audit import AppendOnlyError
from secrets_app.requests import workflow
from tests.factories import AccessRequestFactory, ClusterFactory, SecretGrantFactory, UserFactory


def _hammer(calls):
    """Run each call in its own thread and database connection, all at once."""
    barrier = threading.Barrier(len(calls))
    outcomes = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait()
            call()
            result = "ok"
        except workflow.WorkflowError as error:
            result = error.code
        except Exception as error:  # surfaced by the assertions below
            result = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_twenty_approvers_clicking_at_once_make_one_transition(approver_group):
    request = AccessRequestFactory(cluster=ClusterFactory(required_approvals=1))
    approvers = [UserFactory(username=f"approver{i}") for i in range(20)]
    for user in approvers:
        user.groups.add(approver_group)

    outcomes = _hammer(
        [
            lambda user=user: workflow.request_approve(request_id=request.pk, approver=user)
            for user in approvers
        ]
    )

    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("wrong_state") == 19, outcomes
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert Decision.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.filter(request=request, action="request.approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_clicks_of_one_approver_count_once(approver):
    request = AccessRequestFactory(cluster=ClusterFactory(name="prod", required_approvals=2))
    outcomes = _hammer(
        [lambda: workflow.request_approve(request_id=request.pk, approver=approver)] * 20
    )
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("duplicate") == 19, outcomes
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert Decision.objects.filter(request=request).count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_and_reject_racing_leave_one_outcome(approver, second_approver):
    request = AccessRequestFactory()
    outcomes = _hammer(
        [
            lambda: workflow.request_approve(request_id=request.pk, approver=approver),
            lambda: workflow.request_reject(
                request_id=request.pk, approver=second_approver, reason="no"
            ),
        ]
    )
    assert sorted(outcomes) == ["ok", "wrong_state"], outcomes
    request.refresh_from_db()
    assert request.state in (RequestState.APPROVED, RequestState.REJECTED)
    assert AuditEvent.objects.filter(request=request).count() == (
        2 if request.state == RequestState.APPROVED else 1
    )


@pytest.mark.django_db
def test_a_failed_transition_leaves_neither_change_nor_record(requester, approver):
    request = AccessRequestFactory(requester=requester)
    Decision.objects.create(request=request, approver=approver, verdict="approve")
    before = AuditEvent.objects.count()
    # The decision row exists without its workflow check having run (as after
    # a crash between two statements); the service must not half-apply.
    with pytest.raises(workflow.WorkflowError):
        workflow.request_approve(request_id=request.pk, approver=approver)
    assert AuditEvent.objects.count() == before
    request.refresh_from_db()
    assert request.state == RequestState.PENDING


@pytest.mark.django_db(transaction=True)
def test_an_error_after_the_change_rolls_back_the_audit_event_too(requester, approver):
    request = AccessRequestFactory(requester=requester)
    with pytest.raises(IntegrityError), transaction.atomic():
        workflow.request_approve(request_id=request.pk, approver=approver)
        # A later statement in the same transaction fails...
        Decision.objects.create(request=request, approver=approver, verdict="approve")
    # ...and takes the transition and its audit event with it.
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert not AuditEvent.objects.filter(request=request).exists()


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_or_deleted_through_the_orm(requester):
    grant = SecretGrantFactory()
    with transaction.atomic():
        event = audit_record(actor=requester, action="test", obj=grant.request)
    event.message = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(message="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_with_raw_sql(requester):
    request = AccessRequestFactory()
    with transaction.atomic():
        audit_record(actor=requester, action="test", obj=request)
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE secrets_app_auditevent SET message = 'x'")


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction(requester):
    request = AccessRequestFactory()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=requester, action="test", obj=request)
    assert not AuditEvent.objects.exists()
