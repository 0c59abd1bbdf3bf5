"""Workflow actions through the API: who may do what (the pages' rules), and
refusals as {"detail", "code"} with 403 / 404 / 409."""

from __future__ import annotations

import pytest

from secrets_app.models import AuditEvent, Comment, Decision
from tests.factories import AccessRequestFactory, SecretGrantFactory
from tests.support.clients import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(requester, cluster):
    request = AccessRequestFactory(requester=requester, cluster=cluster)
    SecretGrantFactory(request=request)
    return request


BODIES = {
    "approve": {"comment": "Looks right."},
    "reject": {"reason": "Use the read-only secret."},
    "comment": {"body": "Which container reads it?"},
    "cancel": {},
}
OK = {"approve": 200, "reject": 200, "comment": 201, "cancel": 200}
# actor -> action -> expected status (None: the action's success status)
MATRIX = {
    "anon": {"approve": 401, "reject": 401, "comment": 401, "cancel": 401},
    "as_requester": {"approve": 403, "reject": 403, "comment": None, "cancel": None},
    "as_other": {"approve": 403, "reject": 403, "comment": 403, "cancel": 403},
    "as_approver": {"approve": None, "reject": None, "comment": None, "cancel": 403},
    "as_admin": {"approve": 403, "reject": 403, "comment": None, "cancel": 403},
}
CASES = [(actor, action, want) for actor, row in MATRIX.items() for action, want in row.items()]


@pytest.mark.parametrize("actor, action, want", CASES, ids=[f"{a}-{b}" for a, b, _ in CASES])
def test_permission_matrix(request, pending, actor, action, want):
    client = request.getfixturevalue(actor)
    events_before = AuditEvent.objects.count()

    response = client.post(f"/api/requests/{pending.pk}/{action}/", BODIES[action], format="json")

    expected = OK[action] if want is None else want
    assert response.status_code == expected, response.json()
    body = response.json()
    if expected >= 400:
        assert set(body) == {"detail", "code"}
        pending.refresh_from_db()
        assert pending.state == "pending"
        assert AuditEvent.objects.count() == events_before
    elif action == "comment":
        assert body["body"] == BODIES["comment"]["body"]
    else:
        assert (
            body["state"]
            == {"approve": "approved", "reject": "rejected", "cancel": "cancelled"}[action]
        )


def test_approving_ones_own_request_is_403_with_the_reason(approver, as_approver, cluster):
    own = AccessRequestFactory(requester=approver, cluster=cluster)

    response = as_approver.post(f"/api/requests/{own.pk}/approve/", {}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You cannot approve your own request: another member of the platform team must.",
        "code": "own_request",
    }
    assert not Decision.objects.exists()


def test_production_needs_two_approvers(requester, as_approver, second_approver, prod_cluster):
    req = AccessRequestFactory(requester=requester, cluster=prod_cluster)

    first = as_approver.post(f"/api/requests/{req.pk}/approve/", {}, format="json")
    assert first.status_code == 200
    assert first.json()["state"] == "pending"
    assert first.json()["approvals"] == {"count": 1, "required": 2}

    again = as_approver.post(f"/api/requests/{req.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate"

    second = api_client_for(second_approver).post(
        f"/api/requests/{req.pk}/approve/", {"comment": "ok"}, format="json"
    )
    assert second.status_code == 200
    assert second.json()["state"] == "approved"
    assert [d["approver"] for d in second.json()["decisions"]] == ["pat", "quinn"]


def test_a_rejection_needs_a_reason(as_approver, pending):
    for body in ({}, {"reason": "   "}):
        response = as_approver.post(f"/api/requests/{pending.pk}/reject/", body, format="json")

        assert response.status_code == 400
        assert response.json()["reason"]
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_an_empty_comment_is_400(as_requester, pending):
    response = as_requester.post(
        f"/api/requests/{pending.pk}/comment/", {"body": ""}, format="json"
    )

    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_wrong_state_is_409(as_requester, as_approver, pending):
    assert as_requester.post(f"/api/requests/{pending.pk}/cancel/").status_code == 200

    response = as_approver.post(f"/api/requests/{pending.pk}/approve/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "wrong_state"
    assert "cancelled" in response.json()["detail"]


@pytest.mark.parametrize("action", sorted(BODIES))
def test_unknown_request_is_404(as_approver, action):
    response = as_approver.post(
        "/api/requests/999999/" + action + "/", BODIES[action], format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_draft_filed_by_api_can_be_submitted(as_requester, as_other, requester, cluster):
    draft = AccessRequestFactory(requester=requester, cluster=cluster, state="draft")

    assert as_other.post(f"/api/requests/{draft.pk}/submit/").status_code == 403
    response = as_requester.post(f"/api/requests/{draft.pk}/submit/")

    assert response.status_code == 200
    assert response.json()["state"] == "pending"


def test_session_auth_works_and_keeps_csrf(requester, pending):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(requester)

    assert client.get(f"/api/requests/{pending.pk}/").status_code == 200
    # A session without the CSRF token cannot change anything.
    response = client.post(f"/api/requests/{pending.pk}/cancel/")
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_get_is_not_an_action(as_approver, pending):
    assert as_approver.get(f"/api/requests/{pending.pk}/approve/").status_code == 405
