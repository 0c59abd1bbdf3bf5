"""Editing a draft (``filing.request_edit``): the requester, or an admin,
saves new values onto the same draft, checked exactly as filing checks
them; anyone else, or any request that is no longer a draft, is refused; a
refused edit leaves the draft, its secrets and the audit log as they were."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.db import IntegrityError

from secrets_app.models import AccessRequest, AuditEvent, Claim, RequestState
from secrets_app.requests import drafts, filing, workflow
from tests.factories import GUIDE_ARN
from tests.support.request_bodies import SECOND_ARN, VALID_BODY

pytestmark = pytest.mark.django_db

THIRD_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:session-key-XyZ789"


@pytest.fixture
def body(cluster):
    return copy.deepcopy(VALID_BODY)


@pytest.fixture
def draft(requester, body):
    return filing.request_file(requester=requester, data=body, submit=False).request


def snapshot(request: AccessRequest) -> tuple:
    """Everything an edit may change, as stored."""
    row = AccessRequest.objects.get(pk=request.pk)
    return (
        row.filed(),
        row.state,
        row.updated_at,
        [g.filed() for g in row.secrets.order_by("position")],
        list(row.audit_events.values_list("action", flat=True)),
    )


def test_the_requester_saves_new_values_onto_the_same_draft(requester, draft, body):
    body["justification"] = "Reads the RDS password and the session key."
    body["expires_on"] = datetime.date(2999, 1, 1)
    body["secrets"] = [body["secrets"][0], {"secret": THIRD_ARN, "alias": "session-key"}]

    filed = filing.request_edit(editor=requester, request_id=draft.pk, data=body)

    assert filed.request.pk == draft.pk
    saved = AccessRequest.objects.get(pk=draft.pk)
    assert saved.state == RequestState.DRAFT
    assert saved.justification == "Reads the RDS password and the session key."
    assert saved.expires_on == datetime.date(2999, 1, 1)
    assert [(g.position, g.alias, g.secret) for g in saved.secrets.order_by("position")] == [
        (0, "dcp-db-password", GUIDE_ARN),
        (1, "session-key", THIRD_ARN),
    ]
    assert AccessRequest.objects.count() == 1
    edited = saved.audit_events.get(action="request.edited")
    assert edited.actor == requester
    assert edited.before["fields"] == {
        "expires_on": None,
        "justification": VALID_BODY["justification"],
    }
    assert edited.after["fields"]["expires_on"] == "2999-01-01"
    assert [s["alias"] for s in edited.before["secrets"]] == ["dcp-db-password", "partner-api-key"]
    assert [s["alias"] for s in edited.after["secrets"]] == ["dcp-db-password", "session-key"]
    assert not Claim.objects.exists()  # a draft holds nothing


def test_an_edit_can_submit_the_draft(requester, draft, body):
    body["justification"] = "Now with a reason the approvers accept."

    filed = filing.request_edit(editor=requester, request_id=draft.pk, data=body, submit=True)

    assert filed.request.state == RequestState.PENDING
    saved = AccessRequest.objects.get(pk=draft.pk)
    assert saved.state == RequestState.PENDING and saved.submitted_at is not None
    assert list(saved.audit_events.order_by("pk").values_list("action", flat=True)) == [
        "request.created",
        "request.edited",
        "request.submitted",
    ]
    assert Claim.objects.filter(request=saved).exists()  # submitted, it holds its names


def test_a_hostile_user_cannot_edit_someone_elses_draft(other_user, approver, draft, body):
    before = snapshot(draft)
    body["justification"] = "Mallory was here."
    for hostile in (other_user, approver):
        with pytest.raises(workflow.WorkflowError) as refused:
            filing.request_edit(editor=hostile, request_id=draft.pk, data=body, submit=True)
        assert refused.value.code == "forbidden" and refused.value.status == 403
        assert refused.value.message == "Only the requester and admins can edit this request."
    assert snapshot(draft) == before


def test_an_admin_edits_a_draft_by_the_requesters_rules_but_only_they_submit(
    admin_user, requester, draft, body
):
    # The admin owns no namespace: the draft is checked as alice's request.
    body["justification"] = "Fixed by the platform team."
    filing.request_edit(editor=admin_user, request_id=draft.pk, data=body)
    saved = AccessRequest.objects.get(pk=draft.pk)
    assert saved.justification == "Fixed by the platform team."
    assert saved.requester == requester
    assert saved.audit_events.get(action="request.edited").actor == admin_user

    # A role name only an admin may choose is alice's to ask for: refused.
    body["role_name"] = "hand-picked-role"
    with pytest.raises(filing.FilingInvalid) as invalid:
        filing.request_edit(editor=admin_user, request_id=draft.pk, data=body)
    assert [p.path for p in invalid.value.problems] == ["role_name"]

    before = snapshot(draft)
    del body["role_name"]
    with pytest.raises(workflow.WorkflowError) as refused:
        filing.request_edit(editor=admin_user, request_id=draft.pk, data=body, submit=True)
    assert refused.value.code == "forbidden"
    assert snapshot(draft) == before


@pytest.mark.parametrize("state", ["pending", "rejected", "cancelled", "approved", "active"])
def test_only_drafts_are_edited(requester, draft, body, state):
    AccessRequest.objects.filter(pk=draft.pk).update(state=state)
    before = snapshot(draft)
    body["justification"] = "Too late."

    with pytest.raises(workflow.WorkflowError) as refused:
        filing.request_edit(editor=requester, request_id=draft.pk, data=body)

    assert refused.value.code == "wrong_state" and refused.value.status == 409
    assert "only drafts can be edited" in refused.value.message
    assert snapshot(draft) == before


def test_a_submitted_request_is_not_edited(requester, draft, body):
    workflow.request_submit(request_id=draft.pk, actor=requester)
    before = snapshot(draft)
    with pytest.raises(workflow.WorkflowError) as refused:
        filing.request_edit(editor=requester, request_id=draft.pk, data=body)
    assert refused.value.message.startswith(f"Request #{draft.pk} is pending approval;")
    assert snapshot(draft) == before


def test_an_unknown_request_is_not_found(requester):
    with pytest.raises(workflow.WorkflowError) as refused:
        filing.request_edit(editor=requester, request_id=987654, data=VALID_BODY)
    assert refused.value.code == "not_found"


def test_bad_input_leaves_the_draft_unchanged_with_the_filings_field_errors(requester, draft, body):
    before = snapshot(draft)
    body["namespace"] = "kube-system"
    body["secrets"][1]["alias"] = "Bad Alias!"
    body["secrets"].append({"secret": "arn:aws:s3:::bucket"})

    with pytest.raises(filing.FilingInvalid) as edit:
        filing.request_edit(editor=requester, request_id=draft.pk, data=body, submit=True)
    with pytest.raises(filing.FilingInvalid) as new:
        filing.request_check(requester=requester, data=body)

    assert edit.value.problems == new.value.problems  # the same checks, the same words
    assert {p.path for p in edit.value.problems} >= {
        "namespace",
        "secrets[1].alias",
        "secrets[2].secret",
    }
    assert snapshot(draft) == before


def test_a_draft_cannot_lose_every_secret(requester, draft, body):
    before = snapshot(draft)
    body["secrets"] = []
    with pytest.raises(filing.FilingInvalid) as invalid:
        filing.request_edit(editor=requester, request_id=draft.pk, data=body)
    assert {p.path for p in invalid.value.problems} == {"secrets"}
    assert snapshot(draft) == before


def test_the_secrets_are_replaced_all_at_once_or_not_at_all(requester, draft):
    # Values the filing service would refuse (one alias twice), straight to
    # the workflow step: the database refuses the second row after the old
    # ones were deleted and the fields written, and the whole edit rolls back.
    before = snapshot(draft)
    grant = {**draft.secrets.first().filed(), "secret": SECOND_ARN}
    with pytest.raises(IntegrityError):
        drafts.draft_replace(
            request_id=draft.pk,
            editor=requester,
            secrets=[grant, grant],
            **{**draft.filed(), "justification": "Half an edit."},
        )
    assert snapshot(draft) == before
    assert not AuditEvent.objects.filter(action="request.edited").exists()


def test_an_edit_racing_a_submit_is_refused(requester, draft, body):
    # The filing service reads the draft, checks the values (AWS may take a
    # while), then saves with the row locked and the state read again.
    checked = filing.request_check(requester=requester, data=body)
    workflow.request_submit(request_id=draft.pk, actor=requester)
    with pytest.raises(workflow.WorkflowError) as refused:
        drafts.draft_replace(
            request_id=draft.pk, editor=requester, secrets=checked.secrets, **checked.fields
        )
    assert refused.value.code == "wrong_state"


def test_a_requester_who_left_the_team_cannot_file_through_an_edit(requester, draft, body):
    # Checked as the requester is now: the namespace rule holds on every save.
    requester.groups.clear()
    body["justification"] = "Still mine?"
    with pytest.raises(filing.FilingInvalid) as invalid:
        filing.request_edit(editor=requester, request_id=draft.pk, data=body)
    assert [p.path for p in invalid.value.problems] == ["namespace"]
