"""One send attempt at a time: outcomes recorded on the row, permanent
errors not retried, Retry-After honoured, nothing sent twice; the admin's
resend; the webhook URL never in a log line or a row."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from secrets_app.models import Notification
from secrets_app.notifications import notification_send
from secrets_app.notifications.messages import Message
from secrets_app.notifications.store import record
from secrets_app.observability.logging import redact
from tests.notifications.notifications_support import send_pending

pytestmark = pytest.mark.django_db

MESSAGE = Message("[Secrets portal] Hello", "A body.\n")


def _record(key="test:1", emails=("alice@example.com",)):
    return {n.channel: n for n in record(key=key, event="test", message=MESSAGE, emails=emails)}


def test_a_sent_notification_is_never_sent_again(slack):
    made = _record()
    assert send_pending() == ["sent", "sent"]
    for row in made.values():
        assert notification_send(row.pk).state == "skipped"
        row.refresh_from_db()
        assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
        assert row.sent_at is not None
    assert len(mail.outbox) == 1 and len(slack.posts) == 1
    assert slack.calls[0].content_type == "application/json"


def test_a_wrong_webhook_fails_at_once_without_retrying(slack, settings, caplog):
    settings.SLACK_WEBHOOK_URL = slack.url.replace("/services/", "/services/X")
    row = _record(emails=())["slack"]
    outcome = notification_send(row.pk)
    assert (outcome.state, outcome.retry_in) == ("failed", None)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (
        "failed",
        1,
        "Slack answered 404: no_service",
    )
    assert "failed for good after 1 attempt(s): Slack answered 404" in caplog.text
    assert slack.path not in caplog.text


def test_slack_throttling_is_retried_no_sooner_than_it_asks(slack):
    slack.fail_next(status=429, body="rate_limited", retry_after=7)
    row = _record(emails=())["slack"]
    outcome = notification_send(row.pk)
    assert outcome.state == "pending" and outcome.retry_in == 7
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("pending", 1)
    assert notification_send(row.pk).state == "sent"


def test_a_timeout_is_retryable_and_names_no_url(slack):
    slack.delay_next(seconds=1.5)
    row = _record(emails=())["slack"]
    outcome = notification_send(row.pk)
    assert outcome.state == "pending" and outcome.retry_in is not None
    row.refresh_from_db()
    assert row.last_error == "Slack did not answer within 0.5s."


def test_an_unreachable_slack_names_no_url(settings):
    settings.SLACK_WEBHOOK_URL = (
        "http://127.0.0.1:9/services/T0PORTAL00/B0PORTAL00/ClosedPortToken012345"
    )
    row = _record(emails=())["slack"]
    notification_send(row.pk)
    row.refresh_from_db()
    assert row.last_error == "Slack could not be reached (ConnectionError)."


def test_the_webhook_url_is_masked_in_logs(slack, settings):
    line = f"POST {slack.url} and, as urllib3 logs it at DEBUG, {slack.path} HTTP/1.1"
    masked = redact(line)
    assert slack.url not in masked and "FakeWebhookToken" not in masked


def test_the_admin_sends_failed_notifications_again(admin_user, slack, committed):
    slack.fail_always(status=403, body="invalid_token")
    made = _record()
    send_pending()
    failed, sent = made["slack"], made["email"]
    failed.refresh_from_db()
    assert failed.state == "failed"

    slack.heal()
    client = Client()
    client.force_login(admin_user)
    changelist = reverse("admin:secrets_app_notification_changelist")
    with committed():
        response = client.post(
            changelist,
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert "1 failed notification(s) will be sent again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0)
    assert send_pending() == ["sent"]
    assert len(slack.posts) == 1 and len(mail.outbox) == 1
    page = client.get(changelist + "?state=sent").content.decode()
    assert "Hello" in page and slack.path not in page
    assert client.get(reverse("admin:secrets_app_notification_add")).status_code == 403


def test_notifications_of_one_key_are_recorded_once():
    first = _record(key="once:1")
    again = _record(key="once:1")
    assert first["email"].pk == again["email"].pk
    assert Notification.objects.count() == 1
