"""The pages of a change: the binding page offers it and lists the
binding's history; the change page starts from the binding's secrets and
previews a diff against the repositories; the change request's page shows
that diff; the claim message on the request form links to the change page;
rejected and cancelled requests are copied into a new, prefilled one."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.urls import reverse

from secrets_app.models import AccessRequest, RequestKind, RequestState
from secrets_app.requests import workflow
from tests.changes.change_support import (
    API_ARN,
    ask_change,
    carried_out,
    granted,
    local_world,
)
from tests.factories import GUIDE_ARN, own_namespace
from tests.support.access_requests import make_pending, post_guide_request, secrets_form_data
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(settings, tmp_path, requester, approver):
    cluster = local_world(settings, tmp_path)
    own_namespace(requester, cluster, "deploy")
    return granted(cluster, requester, approver)


def change_form(binding, *secrets: dict, **fields: str) -> dict[str, str]:
    """The change page's POST: the guide's secret (synced as DB_PASSWORD)
    and ``secrets``."""
    data = secrets_form_data(
        {
            "secret": GUIDE_ARN,
            "alias": "dcp-db-password",
            "sync_secret_name": "dcp-db-password",
            "sync_keys": "rds_password as DB_PASSWORD",
        },
        *secrets,
    )
    data.update(
        {"mount_path": "/mnt/secrets-store", "justification": "Reads the API key too.", **fields}
    )
    return data


def test_the_binding_page_offers_a_change_to_its_owner_only(live, requester, other_user):
    url = reverse("binding-change", args=[live.pk])
    assert f'href="{url}"' in client_for(requester).get(live.get_absolute_url()).content.decode()
    outsider = client_for(other_user)
    assert f'href="{url}"' not in outsider.get(live.get_absolute_url()).content.decode()
    assert outsider.get(url).status_code == 403
    assert outsider.post(url, change_form(live, {"secret": API_ARN})).status_code == 403
    assert client_for(requester).get(reverse("binding-change", args=[99999])).status_code == 404


def test_the_change_page_starts_from_the_bindings_secrets(live, requester):
    page = client_for(requester).get(reverse("binding-change", args=[live.pk])).content.decode()
    assert "data-access-service-secrets" in page  # the fixed ServiceAccount, shown
    assert f'value="{GUIDE_ARN}"' in page
    assert "rds_password as DB_PASSWORD" in page
    assert 'name="secrets-INITIAL_FORMS" value="1"' in page
    assert 'name="secrets-0-DELETE"' in page  # even the first secret may go
    # The secret picker lists the binding's cluster's account.
    assert f'<input type="hidden" name="cluster" value="{live.cluster_id}">' in page
    assert "portal/picker.js" in page


def test_preview_shows_a_diff_against_the_repositories(live, requester):
    client = client_for(requester)
    url = reverse("binding-change", args=[live.pk])
    response = client.post(url, {**change_form(live, {"secret": API_ARN}), "action": "preview"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "What the pull requests change" in page
    assert 'badge diff-modified">modified' in page
    assert re.search(r'diff-add">\+.*api-key', page)
    assert not AccessRequest.objects.filter(kind=RequestKind.CHANGE).exists()


def test_submitting_files_the_change_and_its_page_shows_the_diff(live, requester):
    client = client_for(requester)
    response = client.post(
        reverse("binding-change", args=[live.pk]), change_form(live, {"secret": API_ARN})
    )
    change = AccessRequest.objects.get(kind=RequestKind.CHANGE)
    assert response.status_code == 302 and response["Location"] == change.get_absolute_url()
    assert change.changes_id == live.pk and change.state == RequestState.PENDING
    assert sorted(change.secrets.values_list("alias", flat=True)) == ["api-key", "dcp-db-password"]

    page = client.get(change.get_absolute_url()).content.decode()
    assert f"Change request #{change.pk}" in page
    diff_url = reverse("request-diff", args=[change.pk])
    assert f'hx-get="{diff_url}"' in page
    fragment = client.get(diff_url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "api-key" in fragment and "diff-add" in fragment
    # The binding page says a change is in flight; no second one is offered.
    binding_page = client.get(live.get_absolute_url()).content.decode()
    assert f"Change request #{change.pk}</a> is pending approval" in binding_page
    again = client.get(reverse("binding-change", args=[live.pk]))
    assert again.status_code == 409 and f"Change request #{change.pk}" in again.content.decode()


def test_a_page_refusal_is_on_the_field(live, requester):
    response = client_for(requester).post(
        reverse("binding-change", args=[live.pk]),
        change_form(live, {"secret": API_ARN, "alias": "Bad Alias"}, mount_path="/etc"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "id_secrets-1-alias_errors" in page and "id_mount_path_errors" in page
    assert not AccessRequest.objects.filter(kind=RequestKind.CHANGE).exists()


def test_the_binding_page_lists_its_grant_and_each_change(live, requester, approver):
    change = ask_change(live, requester)
    carried_out(change, approver)
    page = client_for(requester).get(live.get_absolute_url()).content.decode()
    history = page[page.index('id="history"') :]
    assert f"request #{live.request_id}</a>" in history
    assert f"change request #{change.pk}</a>" in history
    assert "alice</strong> changed it" in history
    assert "added <code>api-key</code>" in history
    # Both secrets are the binding's now.
    assert "<code>api-key</code>" in page and "<code>dcp-db-password</code>" in page
    progress = client_for(requester).get(change.get_absolute_url()).content.decode()
    assert f'Changed: <a href="{live.get_absolute_url()}">binding #{live.pk}</a>' in progress


def test_a_held_service_account_links_to_the_change_page(live, requester):
    """Filing a grant for the binding's own ServiceAccount: the page links
    to "change this binding" instead of telling to pick another name."""
    response = post_guide_request(client_for(requester), live.cluster)
    page = response.content.decode()
    url = reverse("binding-change", args=[live.pk])
    assert f'<a href="{url}">ask for a change of binding #{live.pk} instead</a>' in page
    # Said once, on the ServiceAccount (and in the list of errors at the
    # top): not again for each file of the service.
    assert page.count("belongs to binding") == 2
    assert response.context["errors"][0][0] == "id_service_account"
    assert len(response.context["errors"]) == 1
    assert AccessRequest.objects.filter(kind=RequestKind.GRANT).count() == 1


def test_a_rejected_grant_is_copied_into_a_prefilled_form(live, requester, approver, other_user):
    rejected = make_pending(live.cluster, requester=requester)
    AccessRequest.objects.filter(pk=rejected.pk).update(service="billing-api")
    with transaction.atomic():
        workflow.request_reject(request_id=rejected.pk, approver=approver, reason="Wrong team.")
    client = client_for(requester)
    copy_url = f"{reverse('request-create')}?copy={rejected.pk}"
    assert f'href="{copy_url}"' in client.get(rejected.get_absolute_url()).content.decode()
    before = AccessRequest.objects.count()
    page = client.get(copy_url).content.decode()
    assert 'value="billing-api"' in page and f'value="{GUIDE_ARN}"' in page
    assert "rds_password as DB_PASSWORD" in page and "Needs the database password." in page
    assert AccessRequest.objects.count() == before  # nothing saved until submitted
    # Only its requester copies it; a request still open is not copied.
    assert client_for(other_user).get(copy_url).status_code == 403
    pending = make_pending(live.cluster, requester=requester)
    assert client.get(f"{reverse('request-create')}?copy={pending.pk}").status_code == 404


def test_a_cancelled_change_is_copied_into_the_change_page(live, requester):
    change = ask_change(live, requester, justification="Needs the API key, typo'd.")
    with transaction.atomic():
        workflow.request_cancel(request_id=change.pk, actor=requester)
    client = client_for(requester)
    copy_url = f"{reverse('binding-change', args=[live.pk])}?copy={change.pk}"
    assert f'href="{copy_url}"' in client.get(change.get_absolute_url()).content.decode()
    page = client.get(copy_url).content.decode()
    assert f'value="{API_ARN}"' in page and "Needs the API key, typo&#x27;d." in page
    assert AccessRequest.objects.filter(kind=RequestKind.CHANGE).count() == 1
