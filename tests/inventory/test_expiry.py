"""The daily expiry job: reminders 7 days and 1 day before, a revocation in
the portal's name after, each once however often the job runs."""

import datetime

import pytest
from django.db import transaction

from secrets_app.accounts.system import SYSTEM_USERNAME
from secrets_app.bindings import expiry
from secrets_app.models import (
    AccessRequest,
    BindingState,
    Notification,
    RequestKind,
    RequestState,
    TaskRun,
)
from secrets_app.requests import workflow
from secrets_app.tasks.expiry import expire_bindings
from tests.factories import BindingFactory, BindingSecretFactory, ClusterFactory
from tests.support.access_requests import make_pending

TODAY = datetime.date(2026, 11, 26)


@pytest.fixture
def binding_expiring(db, requester):
    def make(days: int):
        grant = make_pending(ClusterFactory(), requester=requester)
        grant.state = RequestState.ACTIVE
        grant.save()
        binding = BindingFactory(
            request=grant,
            cluster=grant.cluster,
            owner=requester,
            expires_on=TODAY + datetime.timedelta(days=days),
        )
        BindingSecretFactory(binding=binding)
        return binding

    return make


def _reminders(binding):
    """The reminders (as "7d", "1d") emailed about the binding."""
    keys = Notification.objects.filter(
        event="binding.expiry_reminder",
        channel="email",
        key__startswith=f"binding.expiry:{binding.pk}:",
    ).values_list("key", flat=True)
    return sorted(key.split(":")[3] for key in keys)


@pytest.mark.parametrize(("days_left", "due"), [(10, None), (8, None), (7, 7), (2, 7), (1, 1)])
def test_reminder_due(days_left, due):
    assert expiry.reminder_due(days_left) == due


def test_reminders_once_each_then_revocation_once(binding_expiring, requester, approver):
    binding = binding_expiring(7)
    for _ in range(2):
        expiry.run_expiry(TODAY)
    assert _reminders(binding) == ["7d"]
    emails = Notification.objects.filter(event="binding.expiry_reminder", channel="email")
    assert emails.count() == 1 and emails.get().recipients == [requester.email]

    expiry.run_expiry(TODAY + datetime.timedelta(days=3))  # the 7-day reminder is not repeated
    expiry.run_expiry(TODAY + datetime.timedelta(days=6))  # one day left
    assert _reminders(binding) == ["1d", "7d"]
    assert (
        Notification.objects.filter(event="binding.expiry_reminder", channel="email").count() == 2
    )

    expired = TODAY + datetime.timedelta(days=7)
    report = expiry.run_expiry(expired)
    again = expiry.run_expiry(expired + datetime.timedelta(days=1))
    revocation = AccessRequest.objects.get(revokes=binding)
    assert report.revocations == [revocation.pk] and again.revocations == []
    assert revocation.kind == RequestKind.REVOKE and revocation.state == RequestState.PENDING
    assert revocation.requester.username == SYSTEM_USERNAME
    assert not revocation.requester.is_active and not revocation.requester.has_usable_password()
    assert "expired on" in revocation.justification
    assert Notification.objects.filter(event="binding.expired", channel="email").count() == 1

    # The platform team approves it like any revocation.
    with transaction.atomic():
        workflow.request_approve(request_id=revocation.pk, approver=approver)
    binding.refresh_from_db()
    assert binding.state == BindingState.REVOKING


def test_rejected_expiry_revocation_is_not_reopened(binding_expiring, approver):
    binding = binding_expiring(0)
    first = expiry.run_expiry(TODAY)
    workflow.request_reject(
        request_id=first.revocations[0], approver=approver, reason="still needed, extending"
    )
    assert expiry.run_expiry(TODAY + datetime.timedelta(days=1)).revocations == []
    binding.refresh_from_db()
    assert binding.state == BindingState.ACTIVE
    # Extended in the admin: the next expiry opens a new revocation.
    binding.expires_on = TODAY + datetime.timedelta(days=30)
    binding.save()
    assert len(expiry.run_expiry(TODAY + datetime.timedelta(days=30)).revocations) == 1


def test_revoked_and_undated_bindings_are_left_alone(binding_expiring, requester):
    gone = binding_expiring(-3)
    gone.state = BindingState.REVOKED
    gone.save()
    forever = binding_expiring(0)
    forever.expires_on = None
    forever.save()
    report = expiry.run_expiry(TODAY)
    assert report.revocations == [] and report.reminded == []


def test_open_manual_revocation_is_not_duplicated(binding_expiring, requester):
    from secrets_app.requests import revocation

    binding = binding_expiring(-1)
    with transaction.atomic():
        revocation.request_revocation(binding_id=binding.pk, requester=requester, reason="done")
    report = expiry.run_expiry(TODAY)
    assert report.revocations == []
    assert AccessRequest.objects.filter(revokes=binding).count() == 1


@pytest.mark.django_db(transaction=True)
def test_daily_task_records_its_run(binding_expiring):
    binding_expiring(-1)
    result = expire_bindings()
    assert result["revocations"] == 1
    run = TaskRun.objects.get(kind="expiry")
    assert run.outcome == TaskRun.Outcome.SUCCEEDED and len(run.detail["revocations"]) == 1
