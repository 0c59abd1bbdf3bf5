"""With a real Celery worker on Redis: Slack failures are retried with
backoff until sent; a Slack that never answers ends in "failed", logged
without the webhook URL, while the workflow goes on; with Redis down the
notifications wait as rows and the resend schedule sends them."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core import mail
from django.db import transaction

from secrets_app.models import Notification, RequestState
from secrets_app.requests import workflow
from secrets_app.tasks.notifications import resend_pending_notifications
from tests.factories import ClusterFactory
from tests.notifications.notifications_support import (
    broker_unreachable,
    in_transaction,
    make_request,
    rows,
)
from tests.support.celery_worker import running_worker
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _state(row: Notification) -> tuple[str, int]:
    row.refresh_from_db()
    return row.state, row.attempts


def test_slack_errors_and_timeouts_are_retried_until_sent(
    cluster, requester, approver, slack, worker
):
    slack.fail_next(status=500)
    slack.delay_next(seconds=1.5)  # longer than the 0.5 s timeout
    request = make_request(cluster, requester)
    in_transaction(
        workflow.request_reject, request_id=request.pk, approver=approver, reason="Not yet."
    )

    email, to_slack = rows(event="request.rejected")
    wait_for(lambda: _state(to_slack) == ("sent", 3), what="Slack sent on the third try")
    assert to_slack.last_error == "" and to_slack.sent_at is not None
    assert _state(email) == ("sent", 1)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    wait_for(lambda: len(slack.calls) == 3, what="the timed-out call to finish")
    assert [c.status for c in slack.calls] == [500, 200, 200]  # the late one did arrive
    assert all("Not yet." in t for t in slack.texts)


def test_a_slack_that_always_fails_ends_failed_and_logged_and_the_approval_stands(
    requester, approver, slack, worker, caplog, settings
):
    caplog.set_level(logging.INFO)
    settings.PORTAL_TASK_MAX_ATTEMPTS = 0  # the PR task (no GitHub here) gives up at once
    slack.fail_always(status=500, body="internal_error")
    cluster = ClusterFactory(name="janus-dev")
    request = make_request(cluster, requester)

    approved = in_transaction(workflow.request_approve, request_id=request.pk, approver=approver)
    assert approved.state == RequestState.APPROVED

    email, to_slack = rows(event="request.approved")
    wait_for(lambda: _state(to_slack) == ("failed", 4), what="Slack given up after 4 tries")
    assert to_slack.last_error == "Slack answered 500: internal_error"
    assert _state(email) == ("sent", 1)
    assert any(
        m.subject.endswith("approved: " + f"{request.service} in janus-dev/deploy")
        for m in mail.outbox
    )
    errors = [
        r for r in caplog.records if r.levelno == logging.ERROR and "for good" in r.getMessage()
    ]
    assert any(
        f"notification {to_slack.pk} (request.approved by slack)" in r.getMessage() for r in errors
    )
    assert slack.path not in caplog.text and "FakeWebhookToken" not in caplog.text
    assert all(slack.path not in n.last_error + n.body for n in Notification.objects.all())


def test_with_redis_down_notifications_wait_and_the_resend_schedule_sends_them(
    cluster, requester, approver, slack, caplog
):
    caplog.set_level(logging.WARNING)  # a worker started earlier leaves the root at ERROR
    request = make_request(cluster, requester)
    with broker_unreachable():
        rejected = in_transaction(
            workflow.request_reject, request_id=request.pk, approver=approver, reason="Later."
        )
    assert rejected.state == RequestState.REJECTED
    assert "could not enqueue notifications" in caplog.text
    made = rows()
    assert [(n.channel, n.state, n.attempts) for n in made] == [
        ("email", "pending", 0),
        ("slack", "pending", 0),
    ]
    assert mail.outbox == [] and slack.calls == []

    assert resend_pending_notifications() == 0  # too recent: its task may still come
    Notification.objects.update(
        created_at=Notification.objects.get(pk=made[0].pk).created_at
        - datetime.timedelta(minutes=2)
    )
    with running_worker():
        assert resend_pending_notifications() == 2
        wait_for(lambda: all(_state(n) == ("sent", 1) for n in made), what="both sent after resend")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert len(slack.posts) == 1


def test_a_rolled_back_approval_records_nothing(cluster, requester, approver, slack):
    request = make_request(cluster, requester)
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.request_approve(request_id=request.pk, approver=approver)
        raise RuntimeError("the caller changed its mind")
    assert Notification.objects.count() == 0 and slack.calls == []
