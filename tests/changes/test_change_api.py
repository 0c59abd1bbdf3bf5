"""``POST /api/bindings/<id>/change/``: the same service as the page, keyed
like the API's other inputs."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from secrets_app.models import AccessRequest, RequestKind
from tests.changes.change_support import API_SECRET, GUIDE_SECRET, granted, local_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(settings, tmp_path, requester, approver):
    return granted(local_world(settings, tmp_path), requester, approver)


def post(user, binding, body):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(f"/api/bindings/{binding.pk}/change/", body, format="json")


def test_the_owner_files_a_change_by_api(live, requester):
    response = post(
        requester,
        live,
        {"justification": "Reads the API key too.", "secrets": [GUIDE_SECRET, API_SECRET]},
    )
    assert response.status_code == 201, response.content
    change = AccessRequest.objects.get(kind=RequestKind.CHANGE)
    assert response.json()["id"] == change.pk and change.changes_id == live.pk
    assert change.state == "pending"
    assert [s.alias for s in change.secrets.order_by("position")] == ["dcp-db-password", "api-key"]


def test_problems_come_back_on_their_fields_and_nothing_is_saved(live, requester):
    bad = {**API_SECRET, "secret": "arn:aws:s3:::bucket"}
    response = post(requester, live, {"justification": "x", "secrets": [GUIDE_SECRET, bad]})
    assert response.status_code == 400
    assert "secret" in response.json()["secrets"][1]
    fixed = post(
        requester, live, {"justification": "x", "namespace": "other", "secrets": [GUIDE_SECRET]}
    )
    assert fixed.status_code == 400 and fixed.json() == {"namespace": ["Unknown field."]}
    assert not AccessRequest.objects.filter(kind=RequestKind.CHANGE).exists()


def test_someone_outside_the_team_is_refused(live, other_user):
    response = post(other_user, live, {"justification": "x", "secrets": [GUIDE_SECRET, API_SECRET]})
    assert response.status_code == 403
    assert not AccessRequest.objects.filter(kind=RequestKind.CHANGE).exists()


def test_a_second_change_is_a_conflict(live, requester):
    body = {"justification": "x", "secrets": [GUIDE_SECRET, API_SECRET]}
    assert post(requester, live, body).status_code == 201
    again = post(requester, live, {"justification": "y", "secrets": [GUIDE_SECRET]})
    assert again.status_code == 409, again.content
