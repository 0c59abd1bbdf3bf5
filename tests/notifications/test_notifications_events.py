"""Each workflow event notifies the right people with the right words,
once, and only for committed changes."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone

from secrets_app.models import Notification, RequestKind, RequestState
from secrets_app.requests import extension, workflow
from tests.factories import BindingSecretFactory, UserFactory
from tests.notifications.notifications_support import (
    BASE_URL,
    make_binding,
    make_request,
    rows,
    send_pending,
)

pytestmark = pytest.mark.django_db


def test_a_submitted_request_goes_to_every_approver_but_the_requester(
    cluster, approver, second_approver, approver_group, committed, slack
):
    requester = UserFactory(username="ada")
    requester.groups.add(approver_group)  # an approver asking for herself
    UserFactory(username="gone", is_active=False).groups.add(approver_group)
    UserFactory(username="nomail", email="").groups.add(approver_group)
    request = make_request(cluster, requester, state=RequestState.DRAFT, expires_on=None)

    with committed():
        workflow.request_submit(request_id=request.pk, actor=requester)
    assert send_pending() == ["sent", "sent"]

    (email,) = mail.outbox
    assert email.to == ["pat@example.com", "quinn@example.com"]
    assert email.subject == (
        f"[Secrets portal] Request #{request.pk} awaits approval: "
        f"{request.service} in janus-dev/deploy"
    )
    assert "ada asks that Deployment" in email.body
    assert "dcp-db-password" in email.body
    assert "    Needs the database password." in email.body
    assert f"Review it: {BASE_URL}/requests/{request.pk}/" in email.body
    (text,) = slack.texts
    assert text.startswith(f"[Secrets portal] Request #{request.pk} awaits approval")
    assert f"{BASE_URL}/requests/{request.pk}/" in text
    assert {n.key for n in rows()} == {
        f"request.submitted:{request.pk}:email",
        f"request.submitted:{request.pk}:slack",
    }


def test_approval_tells_the_requester_once_the_last_approver_approves(
    prod_cluster, requester, approver, second_approver, committed
):
    request = make_request(prod_cluster, requester)
    with committed():
        workflow.request_approve(request_id=request.pk, approver=approver)
    assert rows() == []  # one of two approvals: nothing to tell yet

    with committed():
        workflow.request_approve(request_id=request.pk, approver=second_approver)
    assert send_pending() == ["sent"]  # Slack is off: email only
    (email,) = mail.outbox
    assert email.to == ["alice@example.com"]
    assert email.subject.startswith(f"[Secrets portal] Request #{request.pk} approved")
    assert "was approved by pat, quinn." in email.body
    assert f"{BASE_URL}/requests/{request.pk}/" in email.body


def test_rejection_gives_the_requester_the_reason(cluster, requester, approver, committed, slack):
    request = make_request(cluster, requester)
    with committed():
        workflow.request_reject(
            request_id=request.pk, approver=approver, reason="Use the read-only secret."
        )
    send_pending()
    (email,) = mail.outbox
    assert email.to == ["alice@example.com"]
    assert "rejected by pat" in email.body and "    Use the read-only secret." in email.body
    assert "Use the read-only secret." in slack.texts[0]


def test_failure_goes_to_requester_and_approvers_each_time_it_happens(
    cluster, requester, approver, second_approver, admin_user, committed
):
    request = make_request(cluster, requester, state=RequestState.APPROVED)
    with committed():
        workflow.request_fail(request_id=request.pk, reason="GitHub said 403: Bad credentials")
    with committed():
        workflow.request_retry(request_id=request.pk, actor=admin_user)
    with committed():
        workflow.request_fail(request_id=request.pk, reason="GitHub said 403 again")
    assert send_pending() == ["sent", "sent"]  # two failures, two messages

    first, second = mail.outbox
    assert first.to == ["alice@example.com", "pat@example.com", "quinn@example.com"]
    assert "failed" in first.subject and "    GitHub said 403: Bad credentials" in first.body
    assert "    GitHub said 403 again" in second.body


def test_a_pull_request_closed_unmerged_needs_attention(cluster, requester, approver, committed):
    request = make_request(cluster, requester, state=RequestState.PROVISIONING)
    for repository, number in (("infra", 7), ("deploy", 8)):
        pull = workflow.pull_request_record(
            request_id=request.pk,
            repository=repository,
            repo_name=f"platform/{repository}",
            branch=f"portal/request-{request.pk}",
            ref=SimpleNamespace(
                number=number, url=f"https://github.example/{number}", state="open", head_sha=""
            ),
        )
    with committed():
        workflow.pull_request_update_state(pull_id=pull.pk, state="closed")
    send_pending()
    (email,) = mail.outbox
    assert "needs attention" in email.subject
    assert "platform/deploy#8 was closed without merging." in email.body
    assert email.to == ["alice@example.com", "pat@example.com"]


def _record_pull(request, repository, number):
    return workflow.pull_request_record(
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


def test_pull_requests_are_announced_once_both_are_open(cluster, requester, committed):
    request = make_request(cluster, requester, state=RequestState.PROVISIONING)
    with committed():
        _record_pull(request, "infra", 11)
    assert rows() == []  # half a set says nothing
    with committed():
        _record_pull(request, "deploy", 12)
    with committed():
        _record_pull(request, "deploy", 12)  # a re-run finds the same PR
    send_pending()

    (email,) = mail.outbox
    assert email.to == ["alice@example.com"]
    assert email.subject.startswith(
        f"[Secrets portal] Pull requests opened for Request #{request.pk}"
    )
    assert "Infra: platform/infra#11 https://github.example/platform/infra/pull/11" in email.body
    assert "Deploy: platform/deploy#12 https://github.example/platform/deploy/pull/12" in email.body

    with committed():
        _record_pull(request, "deploy", 13)  # replaced after being closed: a new set
    send_pending()
    assert len(mail.outbox) == 2 and "platform/deploy#13" in mail.outbox[1].body
    assert [n.key for n in rows()] == [
        f"pull_requests.opened:{request.pk}:grant:11-12:email",
        f"pull_requests.opened:{request.pk}:grant:11-13:email",
    ]


def test_a_revocation_is_worded_as_one_and_its_rejection_reaches_the_owner(
    cluster, requester, approver, committed
):
    owner = UserFactory(username="olga")
    binding = make_binding(cluster, owner=owner)
    revocation = make_request(
        cluster,
        requester,
        kind=RequestKind.REVOKE,
        revokes=binding,
        state=RequestState.DRAFT,
        service="data-access-service",
        justification="The service was retired.",
    )
    with committed():
        workflow.request_submit(request_id=revocation.pk, actor=requester)
    with committed():
        workflow.request_reject(request_id=revocation.pk, approver=approver, reason="Still used.")
    send_pending()

    submitted, rejected = mail.outbox
    assert submitted.subject.startswith(
        f"[Secrets portal] Revocation request #{revocation.pk} awaits approval"
    )
    assert "alice asks to revoke the access of Deployment data-access-service" in submitted.body
    assert f"binding #{binding.pk}" in submitted.body
    assert "Reason:\n    The service was retired." in submitted.body
    assert rejected.subject.startswith(
        f"[Secrets portal] Revocation request #{revocation.pk} rejected"
    )
    assert rejected.to == ["alice@example.com", "olga@example.com"]


def test_a_rolled_back_change_notifies_nobody(cluster, requester, approver, committed, slack):
    request = make_request(cluster, requester)

    class Boom(Exception):
        pass

    from django.db import transaction

    with committed() as callbacks, pytest.raises(Boom), transaction.atomic():
        workflow.request_approve(request_id=request.pk, approver=approver)
        raise Boom
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == [] and slack.calls == []


def test_nothing_is_recorded_when_notifications_are_off(
    cluster, requester, approver, committed, settings
):
    settings.NOTIFICATIONS_ENABLED = False
    request = make_request(cluster, requester)
    with committed():
        workflow.request_reject(request_id=request.pk, approver=approver, reason="No.")
    assert Notification.objects.count() == 0


def test_hostile_text_is_plain_in_email_and_inert_in_slack(
    cluster, requester, approver, committed, slack
):
    hostile = (
        "<!here> <!channel> <@U024BE7LH> <https://evil.example|click me> "
        "<script>alert(1)</script> &amp; <b>bold</b>"
    )
    request = make_request(cluster, requester, state=RequestState.DRAFT, justification=hostile)
    with committed():
        workflow.request_submit(request_id=request.pk, actor=requester)
    with committed():
        workflow.request_reject(request_id=request.pk, approver=approver, reason=hostile)
    send_pending()

    for text in slack.texts:
        assert "<" not in text and ">" not in text
        assert "&lt;!here&gt; &lt;!channel&gt; &lt;@U024BE7LH&gt;" in text
        assert "&lt;https://evil.example|click me&gt;" in text
        assert "&amp;amp;" in text  # the user's own "&amp;" stays literal
    for email in mail.outbox:
        assert hostile in email.body  # plain text, as typed
        assert email.content_subtype == "plain" and not getattr(email, "alternatives", None)


def test_an_extension_is_worded_as_one_and_its_approval_names_the_date(
    cluster, requester, approver, committed
):
    binding = make_binding(cluster, owner=requester)
    BindingSecretFactory(binding=binding)
    binding.expires_on = timezone.localdate() + datetime.timedelta(days=3)
    binding.save()
    later = timezone.localdate() + datetime.timedelta(days=60)
    with committed():
        asked = extension.request_extension(
            binding_id=binding.pk, requester=requester, expires_on=later, justification="Busy."
        )
    with committed():
        workflow.request_approve(request_id=asked.pk, approver=approver)
    send_pending()

    submitted, approved = mail.outbox
    assert submitted.subject.startswith(
        f"[Secrets portal] Extension request #{asked.pk} awaits approval"
    )
    assert f"(binding #{binding.pk}) to {later:%Y-%m-%d}." in submitted.body
    assert approved.subject.startswith(f"[Secrets portal] Extension request #{asked.pk} approved")
    assert f"The binding now expires on {later:%Y-%m-%d}" in approved.body
    assert "pull requests that grant" not in approved.body
