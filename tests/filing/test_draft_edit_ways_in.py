"""Editing a draft through the request page (``/requests/<id>/edit/``) and
the API (``PUT``/``PATCH /api/requests/<id>/``): the page opens prefilled
with every field and secret, both save onto the same draft through the
filing service, and both refuse what the service refuses."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.urls import reverse

from secrets_app.models import AccessRequest, RequestState
from secrets_app.requests import filing
from tests.factories import SecretGrantFactory
from tests.support.access_requests import request_form_data, secrets_form_data
from tests.support.clients import api_client_for, client_for
from tests.support.request_bodies import SECOND_ARN, VALID_BODY

pytestmark = pytest.mark.django_db

THIRD_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:session-key-XyZ789"


@pytest.fixture
def draft(requester, cluster):
    body = copy.deepcopy(VALID_BODY)
    body["expires_on"] = datetime.date(2999, 1, 1)
    return filing.request_file(requester=requester, data=body, submit=False).request


def edit_url(request: AccessRequest) -> str:
    return reverse("request-edit", args=[request.pk])


def api_url(request: AccessRequest) -> str:
    return reverse("api-request-detail", args=[request.pk])


def stored(request: AccessRequest) -> tuple:
    row = AccessRequest.objects.get(pk=request.pk)
    return row.filed(), row.state, [g.filed() for g in row.secrets.order_by("position")]


# --- The page -------------------------------------------------------------


def test_the_page_opens_with_every_field_and_secret_of_the_draft(requester, draft, cluster):
    response = client_for(requester).get(edit_url(draft))

    assert response.status_code == 200
    body = response.content.decode()
    assert f"Edit draft #{draft.pk}" in body
    form, formset = response.context["form"], response.context["formset"]
    assert form["cluster"].value() == cluster.pk
    assert form["service"].value() == "data-access-service"
    assert form["namespace"].value() == "deploy"
    assert form["containers"].value() == "app"
    assert form["service_account"].value() == "data-access-service-secrets"
    assert str(form["expires_on"].value()) == "2999-01-01"
    assert form["justification"].value() == VALID_BODY["justification"]
    first, second = formset.forms
    assert first["sync_secret_name"].value() == "dcp-db-password"
    assert first["sync_keys"].value() == "rds_password as DB_PASSWORD"
    assert second["secret"].value() == SECOND_ARN
    assert second["alias"].value() == "partner-api-key"
    assert second["jmes"].value() == "username as partner-username"
    assert 'value="submit"' in body  # the requester may submit from here


def test_saving_keeps_the_same_draft_and_submitting_sends_it(requester, draft, cluster):
    client = client_for(requester)
    data = {
        **request_form_data(cluster, justification="Reads the session key."),
        **secrets_form_data({"secret": THIRD_ARN, "alias": "session-key"}),
        "action": "draft",
    }

    response = client.post(edit_url(draft), data)

    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    filed, state, secrets = stored(draft)
    assert state == RequestState.DRAFT and filed["justification"] == "Reads the session key."
    assert [s["alias"] for s in secrets] == ["session-key"]
    assert AccessRequest.objects.count() == 1
    page = client.get(draft.get_absolute_url()).content.decode()
    assert f"Request #{draft.pk} saved as a draft." in page
    assert "edited the draft: expires_on, justification, the secrets" in page

    client.post(edit_url(draft), {**data, "action": "submit"})
    assert stored(draft)[1] == RequestState.PENDING


def test_bad_input_shows_on_its_fields_and_changes_nothing(requester, draft, cluster):
    before = stored(draft)
    data = {
        **request_form_data(cluster, namespace="kube-system"),
        **secrets_form_data({"alias": "Bad Alias!"}),
        "action": "submit",
    }

    response = client_for(requester).post(edit_url(draft), data)

    assert response.status_code == 200
    assert "system namespace kube-system" in " ".join(response.context["form"].errors["namespace"])
    assert "alias" in response.context["formset"].forms[0].errors
    assert stored(draft) == before


def test_nobody_else_opens_the_page(other_user, approver, draft, cluster):
    data = {**request_form_data(cluster), **secrets_form_data({}), "action": "draft"}
    before = stored(draft)
    for user in (other_user, approver):
        client = client_for(user)
        assert client.get(edit_url(draft)).status_code == 403
        assert client.post(edit_url(draft), data).status_code == 403
    assert stored(draft) == before


def test_an_admin_edits_but_does_not_submit_for_the_requester(admin_user, draft, cluster):
    client = client_for(admin_user)
    page = client.get(edit_url(draft)).content.decode()
    assert 'value="draft"' in page and 'value="submit"' not in page

    data = {
        **request_form_data(cluster, justification="Fixed by the platform team."),
        **secrets_form_data({}),
        "action": "submit",  # not offered; saved as a draft all the same
    }
    response = client.post(edit_url(draft), data, follow=True)
    assert "Only alice, who asked for it, can submit it." in response.content.decode()
    filed, state, _ = stored(draft)
    assert state == RequestState.DRAFT and filed["justification"] == "Fixed by the platform team."


def test_a_request_that_is_not_a_draft_sends_the_editor_to_its_page(requester, draft, cluster):
    AccessRequest.objects.filter(pk=draft.pk).update(state=RequestState.PENDING)
    client = client_for(requester)

    response = client.get(edit_url(draft), follow=True)

    assert response.redirect_chain == [(draft.get_absolute_url(), 302)]
    assert "only drafts can be edited" in response.content.decode()
    data = {**request_form_data(cluster), **secrets_form_data({}), "action": "draft"}
    assert client.post(edit_url(draft), data)["Location"] == draft.get_absolute_url()


def test_the_request_page_offers_the_edit_to_those_who_may(
    requester, other_user, admin_user, draft
):
    def offered(user) -> bool:
        page = client_for(user).get(draft.get_absolute_url()).content.decode()
        return f'href="{edit_url(draft)}"' in page

    assert offered(requester) and offered(admin_user)
    assert not offered(other_user)
    AccessRequest.objects.filter(pk=draft.pk).update(state=RequestState.PENDING)
    assert not offered(requester)


def test_the_edit_page_costs_a_constant_number_of_queries(
    requester, draft, django_assert_max_num_queries
):
    client = client_for(requester)
    for i in range(8):
        SecretGrantFactory(request=draft, position=2 + i, alias=f"extra-{i}")
    # Ten with two secrets as with ten: session, user, the draft, its
    # secrets, the clusters and namespaces the form offers.
    with django_assert_max_num_queries(10):
        response = client.get(edit_url(draft))
    assert len(response.context["formset"].forms) == 10


# --- The API --------------------------------------------------------------


def test_patch_changes_only_the_fields_given(requester, draft):
    response = api_client_for(requester).patch(
        api_url(draft), {"justification": "Patched."}, format="json"
    )

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["id"] == draft.pk and data["state"] == "draft"
    assert data["justification"] == "Patched."
    assert data["expires_on"] == "2999-01-01"
    assert [s["alias"] for s in data["secrets"]] == ["dcp-db-password", "partner-api-key"]
    assert data["warnings"] == []


def test_put_replaces_the_whole_draft_and_may_submit_it(requester, draft):
    body = copy.deepcopy(VALID_BODY)
    body["secrets"] = [{"secret": THIRD_ARN, "alias": "session-key"}]
    body["submit"] = True

    response = api_client_for(requester).put(api_url(draft), body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "pending"
    filed, _, secrets = stored(draft)
    assert filed["expires_on"] is None  # left out of the whole request: none
    assert [s["alias"] for s in secrets] == ["session-key"]


def test_the_api_refuses_as_the_service_does(requester, other_user, approver, draft):
    before = stored(draft)
    for user in (other_user, approver):
        response = api_client_for(user).patch(api_url(draft), {"justification": "x"}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"

    client = api_client_for(requester)
    response = client.patch(
        api_url(draft),
        {"namespace": "kube-system", "secrets": [{"secret": GUIDE_ARN_BAD, "alias": "x"}]},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"namespace", "secrets"}
    assert set(errors["secrets"][0]) == {"secret"}

    response = client.patch(api_url(draft), {"sync_key": []}, format="json")
    assert response.status_code == 400 and response.json() == {"sync_key": ["Unknown field."]}
    assert stored(draft) == before

    AccessRequest.objects.filter(pk=draft.pk).update(state=RequestState.PENDING)
    response = client.patch(api_url(draft), {"justification": "late"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "wrong_state"
    assert client.patch("/api/requests/99999999/", {}, format="json").status_code == 404


GUIDE_ARN_BAD = "arn:aws:s3:::not-a-secret"
