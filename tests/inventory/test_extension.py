"""Extending a binding's expiry: asked for on the binding page or the API by
the owner (or the owning team), approved under the grant's rules by someone
else, and then the binding's date; and an admin's move in the Binding admin.
Past dates and bindings that are not active are refused on the field."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    BindingState,
    RequestKind,
    RequestState,
    TaskRun,
)
from secrets_app.requests import extension, workflow
from secrets_app.requests.filing import FilingInvalid
from tests.factories import BindingFactory, BindingSecretFactory, UserFactory
from tests.support.access_requests import make_pending
from tests.support.clients import api_client_for

TODAY = timezone.localdate()
SOON = TODAY + datetime.timedelta(days=5)
LATER = TODAY + datetime.timedelta(days=90)


@pytest.fixture
def live_binding(cluster, requester):
    # ``cluster``: team-deploy (alice's team) owns its namespace "deploy".
    grant = make_pending(cluster, requester=requester)
    grant.state = RequestState.ACTIVE
    grant.save()
    binding = BindingFactory(request=grant, cluster=grant.cluster, owner=requester, expires_on=SOON)
    BindingSecretFactory(binding=binding)
    return binding


def _ask(client, binding, expires_on, justification="Still in use by the nightly job."):
    return client.post(
        reverse("binding-extend", args=[binding.pk]),
        {"expires_on": expires_on, "justification": justification},
    )


def test_owner_extends_and_another_approver_approves(client, requester, approver, live_binding):
    client.force_login(requester)
    page = client.get(live_binding.get_absolute_url())
    assert b"Ask to extend" in page.content
    response = _ask(client, live_binding, LATER.isoformat())
    asked = AccessRequest.objects.get(extends=live_binding)
    assert response.status_code == 302 and response.url == asked.get_absolute_url()
    assert (asked.kind, asked.state, asked.expires_on) == (
        RequestKind.EXTEND,
        RequestState.PENDING,
        LATER,
    )
    page = client.get(asked.get_absolute_url())
    assert b"Extension request #" in page.content and b"no pull requests" in page.content
    # Nobody approves their own request, approver or not.
    with pytest.raises(workflow.WorkflowError) as own:
        workflow.request_approve(request_id=asked.pk, approver=requester)
    assert own.value.code in ("forbidden", "own_request")
    live_binding.refresh_from_db()
    assert live_binding.expires_on == SOON

    workflow.request_approve(request_id=asked.pk, approver=approver)
    asked.refresh_from_db()
    live_binding.refresh_from_db()
    assert asked.state == RequestState.EXTENDED
    assert live_binding.expires_on == LATER
    # No pull requests and no pull-request task.
    assert not asked.pull_requests.exists()
    assert not TaskRun.objects.filter(request=asked).exists()
    event = AuditEvent.objects.get(action="binding.expiry_set", object_id=str(live_binding.pk))
    assert event.actor_name == approver.username and event.request_id == asked.pk
    assert event.after == {"expires_on": LATER.isoformat()}
    assert f"extension request #{asked.pk}" in event.message
    page = client.get(live_binding.get_absolute_url())
    assert (
        LATER.strftime("%Y-%m-%d").encode() in page.content
        or LATER.strftime("%b. %-d, %Y").encode() in page.content
    )


def test_past_dates_and_inactive_bindings_are_refused_on_the_field(client, requester, live_binding):
    client.force_login(requester)
    response = _ask(client, live_binding, (TODAY - datetime.timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert b"must be after today" in response.content
    assert b"id_expires_on_errors" in response.content
    response = _ask(client, live_binding, (SOON - datetime.timedelta(days=1)).isoformat())
    assert response.status_code == 400 and b"an extension picks a later date" in response.content
    live_binding.state = BindingState.REVOKING
    live_binding.save()
    with pytest.raises(FilingInvalid) as invalid:
        extension.request_extension(
            binding_id=live_binding.pk, requester=requester, expires_on=LATER, justification="x"
        )
    assert [p.path for p in invalid.value.problems] == ["expires_on"]
    assert "only an active binding" in invalid.value.problems[0].message
    assert not AccessRequest.objects.filter(extends=live_binding).exists()


def test_others_cannot_ask_and_one_at_a_time(client, requester, other_user, live_binding):
    client.force_login(other_user)
    assert b"Ask to extend" not in client.get(live_binding.get_absolute_url()).content
    assert _ask(client, live_binding, LATER.isoformat()).status_code == 403
    client.force_login(requester)
    assert _ask(client, live_binding, LATER.isoformat()).status_code == 302
    page = client.get(live_binding.get_absolute_url())
    assert b"Ask to extend" not in page.content and b"Extension request #" in page.content
    assert _ask(client, live_binding, LATER.isoformat()).status_code == 409


def test_team_member_may_ask(client, requester, live_binding):
    # alice's team owns the namespace; the binding now belongs to someone else.
    live_binding.owner = UserFactory(username="bob")
    live_binding.save()
    client.force_login(requester)
    assert _ask(client, live_binding, LATER.isoformat()).status_code == 302


def test_approval_refused_once_the_binding_is_revoking(requester, approver, live_binding):
    asked = extension.request_extension(
        binding_id=live_binding.pk, requester=requester, expires_on=LATER, justification="x"
    )
    live_binding.state = BindingState.REVOKING
    live_binding.save()
    with pytest.raises(workflow.WorkflowError, match="only an active binding"):
        workflow.request_approve(request_id=asked.pk, approver=approver)
    asked.refresh_from_db()
    assert asked.state == RequestState.PENDING


def test_api_extend(requester, other_user, approver, live_binding):
    url = f"/api/bindings/{live_binding.pk}/extend/"
    body = {"expires_on": LATER.isoformat(), "justification": "Still needed."}
    assert api_client_for(other_user).post(url, body, format="json").status_code == 403
    api = api_client_for(requester)
    past = api.post(url, {**body, "expires_on": "2001-01-01"}, format="json")
    assert past.status_code == 400 and list(past.json()) == ["expires_on"]
    assert api.post(url, {"expires_on": LATER.isoformat()}, format="json").status_code == 400
    made = api.post(url, body, format="json")
    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["kind"], data["extends"], data["expires_on"]) == (
        "extend",
        live_binding.pk,
        LATER.isoformat(),
    )
    again = api.post(url, body, format="json")
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    approved = api_client_for(approver).post(
        f"/api/requests/{data['id']}/approve/", {}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["state"] == "extended"
    live_binding.refresh_from_db()
    assert live_binding.expires_on == LATER


def test_admin_moves_the_expiry_audited(client, admin_user, live_binding):
    client.force_login(admin_user)
    url = reverse("admin:secrets_app_binding_change", args=[live_binding.pk])
    assert client.get(url).status_code == 200
    past = client.post(url, {"expires_on": (TODAY - datetime.timedelta(days=3)).isoformat()})
    assert past.status_code == 200 and b"must be after today" in past.content
    saved = client.post(url, {"expires_on": LATER.isoformat()})
    assert saved.status_code == 302, saved.content[:2000]
    live_binding.refresh_from_db()
    assert live_binding.expires_on == LATER
    event = AuditEvent.objects.get(action="binding.expiry_set")
    assert event.actor_name == admin_user.username and "in the admin" in event.message
    assert event.before == {"expires_on": SOON.isoformat()}
    # Nothing else is editable, nothing added or deleted here.
    assert client.get(reverse("admin:secrets_app_binding_add")).status_code == 403
    live_binding.state = BindingState.REVOKED
    live_binding.save()
    refused = client.post(url, {"expires_on": (LATER + datetime.timedelta(days=1)).isoformat()})
    assert refused.status_code == 200 and b"only an active binding" in refused.content


def test_admin_audit_log_is_newest_first(client, admin_user, requester, live_binding):
    extension.request_extension(
        binding_id=live_binding.pk, requester=requester, expires_on=LATER, justification="x"
    )
    client.force_login(admin_user)
    page = client.get(reverse("admin:secrets_app_auditevent_changelist"))
    rows = page.context["cl"].result_list
    times = [(e.created_at, e.pk) for e in rows]
    assert len(times) > 2 and times == sorted(times, reverse=True)
