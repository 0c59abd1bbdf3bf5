"""The audit log in the API: admins only, newest first, filtered."""

from __future__ import annotations

import pytest

from secrets_app.requests import workflow
from tests.factories import AccessRequestFactory

pytestmark = pytest.mark.django_db


def test_newest_first_for_admins_only(as_admin, as_requester, as_approver, requester, approver):
    first = AccessRequestFactory(requester=requester)
    workflow.request_cancel(request_id=first.pk, actor=requester)
    second = AccessRequestFactory(requester=requester)
    workflow.request_approve(request_id=second.pk, approver=approver)
    assert as_requester.get("/api/audit/").status_code == 403
    assert as_approver.get("/api/audit/").status_code == 403
    response = as_admin.get("/api/audit/")
    assert response.status_code == 200
    rows = response.json()["results"]
    times = [(row["created_at"], row["id"]) for row in rows]
    assert len(rows) >= 3 and times == sorted(times, reverse=True)
    assert rows[-1]["action"] == "request.cancelled"
    only = as_admin.get(f"/api/audit/?request={first.pk}").json()["results"]
    assert {row["request"] for row in only} == {first.pk}
    by = as_admin.get(f"/api/audit/?actor={approver.username}").json()["results"]
    assert by and {row["actor"] for row in by} == {approver.username}
    assert as_admin.get("/api/audit/?newest=1").status_code == 400


def test_anonymous_gets_401(anon):
    assert anon.get("/api/audit/").status_code == 401
