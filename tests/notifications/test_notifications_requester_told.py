"""The requester hears of comments by others (one email per comment, never
of their own) and, once, that their access is active: however often the
merge is reported again, the pull-request task re-runs, or the listener
itself runs again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core import mail

from secrets_app.models import AuditEvent, Binding, Notification, RequestKind, RequestState
from secrets_app.notifications import notify_audit_event
from secrets_app.requests import workflow
from tests.factories import UserFactory
from tests.notifications.notifications_support import (
    BASE_URL,
    make_binding,
    make_request,
    rows,
    send_pending,
)

pytestmark = pytest.mark.django_db


def test_an_approvers_comment_reaches_the_requester_by_email(
    cluster, requester, approver, committed, slack
):
    request = make_request(cluster, requester)
    with committed():
        comment = workflow.request_comment(
            request_id=request.pk, author=approver, body="Why two secrets?\nOne would do."
        )
    assert send_pending() == ["sent"]

    (email,) = mail.outbox
    assert email.to == ["alice@example.com"]
    assert email.subject == (
        f"[Secrets portal] pat commented on Request #{request.pk}: "
        f"{request.service} in janus-dev/deploy"
    )
    assert "    Why two secrets?\n    One would do." in email.body
    assert f"Answer on its page: {BASE_URL}/requests/{request.pk}/" in email.body
    # A conversation with the requester, not news for the team's channel.
    assert slack.calls == []
    assert [(n.key, n.event, n.channel) for n in rows()] == [
        (f"request.commented:{comment.pk}:email", "request.commented", "email")
    ]


def test_each_comment_is_one_notification_and_the_requesters_own_are_none(
    cluster, requester, approver, admin_user, committed
):
    request = make_request(cluster, requester)
    with committed():
        workflow.request_comment(request_id=request.pk, author=requester, body="Any news?")
    assert rows() == []  # nobody is told of their own comment

    with committed():
        workflow.request_comment(request_id=request.pk, author=approver, body="Looking.")
    with committed():
        workflow.request_comment(request_id=request.pk, author=admin_user, body="Fixed the NS.")
    assert send_pending() == ["sent", "sent"]
    assert [m.to for m in mail.outbox] == [["alice@example.com"], ["alice@example.com"]]
    assert ["Looking." in mail.outbox[0].body, "Fixed the NS." in mail.outbox[1].body] == [
        True,
        True,
    ]


def test_a_comment_on_a_revocation_reaches_the_bindings_owner_too(
    cluster, requester, approver, committed
):
    owner = UserFactory(username="olga")
    revocation = make_request(
        cluster,
        requester,
        kind=RequestKind.REVOKE,
        revokes=make_binding(cluster, owner=owner),
        service="data-access-service",
    )
    with committed():
        workflow.request_comment(request_id=revocation.pk, author=requester, body="Retired.")
    send_pending()
    assert [m.to for m in mail.outbox] == [["olga@example.com"]]

    with committed():
        workflow.request_comment(request_id=revocation.pk, author=approver, body="Sure?")
    send_pending()
    assert [m.to for m in mail.outbox][1:] == [["alice@example.com", "olga@example.com"]]


def _open_both(request) -> dict:
    pulls = {}
    for repository, number in (("infra", 21), ("deploy", 22)):
        pulls[repository] = workflow.pull_request_record(
            request_id=request.pk,
            repository=repository,
            repo_name=f"platform/{repository}",
            branch=f"portal/request-{request.pk}",
            ref=SimpleNamespace(
                number=number,
                url=f"https://github.example/platform/{repository}/pull/{number}",
                state="open",
                head_sha=f"sha{number}",
            ),
        )
    return pulls


def test_the_requester_is_told_once_when_access_becomes_active(
    cluster, requester, committed, slack
):
    request = make_request(cluster, requester, state=RequestState.PROVISIONING)
    pulls = _open_both(request)
    with committed():
        workflow.pull_request_update_state(pull_id=pulls["infra"].pk, state="merged")
    assert not rows(event="request.active")  # half merged: not yet

    with committed():
        workflow.pull_request_update_state(pull_id=pulls["deploy"].pk, state="merged")
    request.refresh_from_db()
    assert request.state == RequestState.ACTIVE
    binding = Binding.objects.get(request=request)

    # Everything that may run again does: the webhook redelivered, the
    # pull-request task retried (it carries out a request whose pulls all
    # merged), and the listener of the audit event itself.
    for _ in range(2):
        with committed():
            workflow.pull_request_update_state(pull_id=pulls["deploy"].pk, state="merged")
        with committed():
            workflow.pull_requests_opened(request_id=request.pk, purpose="grant")
        notify_audit_event(AuditEvent.objects.get(request=request, action="request.active"))

    assert send_pending() == ["sent", "sent"]  # one email, one Slack message
    assert [n.key for n in rows(event="request.active")] == [
        f"request.active:{request.pk}:email",
        f"request.active:{request.pk}:slack",
    ]
    (email,) = [m for m in mail.outbox if "active" in m.subject]
    assert email.to == ["alice@example.com"]
    assert email.subject == (
        f"[Secrets portal] Access is active: Request #{request.pk}, "
        f"{request.service} in janus-dev/deploy"
    )
    assert "Both pull requests of" in email.body
    assert f"The binding: {BASE_URL}/bindings/{binding.pk}/" in email.body
    assert f"The request: {BASE_URL}/requests/{request.pk}/" in email.body
    assert sum("Access is active" in t for t in slack.texts) == 1


def test_activation_rolled_back_tells_nobody(cluster, requester, committed):
    request = make_request(cluster, requester, state=RequestState.PROVISIONING)
    pulls = _open_both(request)
    # The carry-out fails (a secret newer rules refuse): the request needs a
    # person instead, and nobody is told access is active.
    request.secrets.update(alias="Bad Alias!")
    with committed():
        workflow.pull_request_update_state(pull_id=pulls["infra"].pk, state="merged")
    with committed():
        workflow.pull_request_update_state(pull_id=pulls["deploy"].pk, state="merged")
    request.refresh_from_db()
    assert request.state == RequestState.NEEDS_ATTENTION
    assert not Notification.objects.filter(event="request.active").exists()
