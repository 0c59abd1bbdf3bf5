"""Expiry reminders, expired bindings and bindings failing for too long:
to the owner and Slack, each once."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from secrets_app.models import BindingState, HealthSnapshot, Notification
from secrets_app.notifications import (
    notify_binding_expired,
    notify_expiry_reminder,
    notify_failing_bindings,
)
from secrets_app.tasks.notifications import notify_failing_bindings as failing_task
from tests.factories import UserFactory
from tests.notifications.notifications_support import (
    BASE_URL,
    make_binding,
    make_request,
    rows,
    send_pending,
)

pytestmark = pytest.mark.django_db

EXPIRES = datetime.date(2026, 12, 1)


@pytest.fixture
def owner(db):
    return UserFactory(username="olga")


def test_an_expiry_reminder_is_sent_once_however_often_it_is_asked_for(
    cluster, owner, committed, slack
):
    binding = make_binding(cluster, owner=owner, expires_on=EXPIRES)
    with committed():
        first = notify_expiry_reminder(binding.pk, 7)
    with committed():
        again = notify_expiry_reminder(binding.pk, 7)
    assert [n.pk for n in again] == [n.pk for n in first] and len(first) == 2
    assert send_pending() == ["sent", "sent"]
    assert send_pending() == []

    (email,) = mail.outbox
    assert email.to == ["olga@example.com"]
    assert email.subject == (
        "[Secrets portal] Access expires in 7 days: janus-dev/deploy/data-access-service-secrets"
    )
    assert "expires on 2026-12-01 (in 7 days)" in email.body
    assert f"{BASE_URL}/bindings/{binding.pk}/" in email.body
    assert len(slack.posts) == 1
    assert {n.key for n in first} == {
        f"binding.expiry:{binding.pk}:2026-12-01:7d:email",
        f"binding.expiry:{binding.pk}:2026-12-01:7d:slack",
    }

    with committed():
        notify_expiry_reminder(binding.pk, 1)  # the day before: a second reminder
    send_pending()
    assert "Access expires tomorrow" in mail.outbox[1].subject


def test_a_binding_without_owner_reminds_its_grants_requester(cluster, requester, committed):
    grant = make_request(cluster, requester)
    binding = make_binding(cluster, request=grant, expires_on=EXPIRES)
    with committed():
        notify_expiry_reminder(binding.pk, 1)
    send_pending()
    assert mail.outbox[0].to == ["alice@example.com"]


def test_an_imported_binding_without_anyone_reminds_only_slack(cluster, committed, slack):
    binding = make_binding(cluster, source="imported", expires_on=EXPIRES)
    with committed():
        made = notify_expiry_reminder(binding.pk, 7)
    assert [n.channel for n in made] == ["slack"]
    send_pending()
    assert mail.outbox == [] and len(slack.posts) == 1


def test_an_expired_binding_links_its_revocation(cluster, owner, requester, committed):
    binding = make_binding(cluster, owner=owner, expires_on=EXPIRES)
    revocation = make_request(cluster, requester, kind="revoke", revokes=binding)
    with committed():
        notify_binding_expired(binding.pk, revocation.pk)
        notify_binding_expired(binding.pk, revocation.pk)
    send_pending()
    (email,) = mail.outbox
    assert email.subject.startswith("[Secrets portal] Access expired: janus-dev/deploy/")
    assert "expired on 2026-12-01" in email.body
    assert f"Revocation request #{revocation.pk} asks for it to be revoked" in email.body
    assert f"{BASE_URL}/requests/{revocation.pk}/" in email.body


def _failing(cluster, name, *, minutes_ago, **fields):
    since = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return make_binding(
        cluster,
        service=name,
        service_account=f"{name}-secrets",
        failing_since=since,
        health_status="failing",
        **fields,
    )


def test_a_binding_failing_too_long_is_reported_once_per_episode(
    cluster, owner, committed, slack, settings
):
    settings.NOTIFY_FAILING_AFTER_MINUTES = 30
    long = _failing(cluster, "long", minutes_ago=45, owner=owner)
    _failing(cluster, "short", minutes_ago=10, owner=owner)  # not long enough yet
    _failing(cluster, "going", minutes_ago=90, owner=owner, state=BindingState.REVOKING)
    HealthSnapshot.objects.create(
        binding=long,
        status="failing",
        diagnosis_code="access_denied",
        last_error="AccessDeniedException: not authorized to perform GetSecretValue <!here>",
        taken_at=timezone.now(),
    )

    with committed():
        assert failing_task() == 1
    with committed():
        assert failing_task() == 0  # same episode: said already
    send_pending()
    (email,) = mail.outbox
    assert email.to == ["olga@example.com"]
    assert email.subject == (
        "[Secrets portal] Binding failing for 30+ minutes: janus-dev/deploy/long-secrets"
    )
    assert "access_denied AccessDeniedException" in email.body
    assert f"{BASE_URL}/bindings/{long.pk}/" in email.body
    (text,) = slack.texts
    assert "&lt;!here&gt;" in text and "<!here>" not in text

    # It recovered (the sweep cleared failing_since), then failed again.
    long.failing_since = timezone.now() - datetime.timedelta(minutes=31)
    long.save(update_fields=["failing_since"])
    with committed():
        assert notify_failing_bindings() == 1
    send_pending()
    assert len(mail.outbox) == 2
    keys = [n.key for n in rows(channel=Notification.Channel.EMAIL)]
    assert len(keys) == 2 and all(k.startswith(f"binding.failing:{long.pk}:") for k in keys)


def test_checking_failing_bindings_costs_the_same_for_one_or_many(
    cluster, owner, committed, django_assert_num_queries
):
    _failing(cluster, "first", minutes_ago=60, owner=owner)
    with committed():
        notify_failing_bindings()
    with django_assert_num_queries(2):
        assert notify_failing_bindings() == 0
    for i in range(20):
        _failing(cluster, f"more-{i}", minutes_ago=60, owner=owner)
    with committed():
        notify_failing_bindings()
    with django_assert_num_queries(2):
        assert notify_failing_bindings() == 0


def test_a_reminder_that_cannot_be_recorded_is_logged_not_raised(caplog):
    assert notify_expiry_reminder(987654, 7) == []
    assert notify_binding_expired(987654, 1) == []
    assert "could not record notify_expiry_reminder(987654, 7)" in caplog.text
