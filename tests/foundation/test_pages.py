"""Pages: the permission matrix, the newcomer's journey, and query counts."""

import pytest
from django.test import Client
from django.urls import reverse

from secrets_app.models import AccessRequest, RequestState
from tests.factories import AccessRequestFactory, SecretGrantFactory, own_namespace
from tests.support.access_requests import post_guide_request
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "requester", "other", "approver", "admin"]


@pytest.fixture
def users(requester, other_user, approver, admin_user):
    return {
        "anonymous": None,
        "requester": requester,
        "other": other_user,
        "approver": approver,
        "admin": admin_user,
    }


@pytest.fixture
def pending(requester, cluster):
    request = AccessRequestFactory(requester=requester, cluster=cluster)
    SecretGrantFactory(request=request)
    return request


# (method, url name, needs request id, expected status per role)
MATRIX = [
    (
        "get",
        "home",
        False,
        {"anonymous": 302, "requester": 200, "other": 200, "approver": 200, "admin": 200},
    ),
    (
        "get",
        "request-list",
        False,
        {"anonymous": 302, "requester": 200, "other": 200, "approver": 200, "admin": 200},
    ),
    (
        "get",
        "request-create",
        False,
        {"anonymous": 302, "requester": 200, "other": 200, "approver": 200, "admin": 200},
    ),
    (
        "get",
        "request-secret-form",
        False,
        {"anonymous": 302, "requester": 200, "other": 200, "approver": 200, "admin": 200},
    ),
    (
        "get",
        "request-detail",
        True,
        {"anonymous": 302, "requester": 200, "other": 200, "approver": 200, "admin": 200},
    ),
    (
        "get",
        "approval-queue",
        False,
        {"anonymous": 302, "requester": 403, "other": 403, "approver": 200, "admin": 403},
    ),
    (
        "post",
        "request-approve",
        True,
        {"anonymous": 302, "requester": 403, "other": 403, "approver": 302, "admin": 403},
    ),
    (
        "post",
        "request-reject",
        True,
        {"anonymous": 302, "requester": 403, "other": 403, "approver": 302, "admin": 403},
    ),
    (
        "post",
        "request-comment",
        True,
        {"anonymous": 302, "requester": 302, "other": 403, "approver": 302, "admin": 302},
    ),
    (
        "post",
        "request-cancel",
        True,
        {"anonymous": 302, "requester": 302, "other": 403, "approver": 403, "admin": 403},
    ),
    (
        "get",
        "admin:index",
        False,
        {"anonymous": 302, "requester": 302, "other": 302, "approver": 302, "admin": 200},
    ),
    (
        "get",
        "admin:secrets_app_auditevent_changelist",
        False,
        {"anonymous": 302, "requester": 302, "other": 302, "approver": 302, "admin": 200},
    ),
    (
        "get",
        "admin:secrets_app_auditevent_add",
        False,
        {"anonymous": 302, "requester": 302, "other": 302, "approver": 302, "admin": 403},
    ),
    (
        "get",
        "admin:secrets_app_cluster_add",
        False,
        {"anonymous": 302, "requester": 302, "other": 302, "approver": 302, "admin": 200},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "name", "with_id", "expected"), MATRIX, ids=[m[1] for m in MATRIX]
)
def test_permission_matrix(users, pending, role, method, name, with_id, expected):
    client = client_for(users[role])
    url = reverse(name, args=[pending.pk] if with_id else [])
    data = {"comment": "ok", "reason": "because", "body": "a comment"}
    response = getattr(client, method)(url, data) if method == "post" else client.get(url)
    assert response.status_code == expected[role], (role, name, response.status_code)
    if role == "anonymous" and response.status_code == 302:
        assert "/login/" in response["Location"]


def test_refused_approval_leaves_the_request_untouched(users, pending):
    client_for(users["requester"]).post(reverse("request-approve", args=[pending.pk]))
    pending.refresh_from_db()
    assert pending.state == RequestState.PENDING
    assert not pending.decisions.exists()


def test_get_is_refused_on_actions(users, pending):
    response = client_for(users["approver"]).get(reverse("request-approve", args=[pending.pk]))
    assert response.status_code == 405


def test_csrf_is_enforced_on_actions(users, pending):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["approver"])
    response = client.post(reverse("request-approve", args=[pending.pk]))
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.state == RequestState.PENDING


def test_newcomer_journey(requester, approver, cluster):
    """File a request with two secrets, have a second user approve it, see the
    timeline; approving one's own request is refused with a clear message."""
    alice = client_for(requester)
    response = post_guide_request(alice, cluster)
    assert response.status_code == 302, response.content.decode()[:2000]
    request = AccessRequest.objects.get()
    assert response["Location"] == request.get_absolute_url()
    assert request.state == RequestState.PENDING
    assert [s.alias for s in request.secrets.all()] == ["dcp-db-password", "api-key"]

    # Alice (not an approver) is refused; so is an approver on their own request.
    response = alice.post(reverse("request-approve", args=[request.pk]), follow=True)
    assert response.status_code == 403
    assert "Only members of the platform team can approve" in response.content.decode()

    pat = client_for(approver)
    page = pat.get(reverse("approval-queue")).content.decode()
    assert "data-access-service" in page and "0 of 1" in page
    response = pat.post(reverse("request-approve", args=[request.pk]), {"comment": "LGTM"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED

    page = alice.get(request.get_absolute_url()).content.decode()
    for text in ("created the request", "submitted it for approval", "approved (1 of 1)", "LGTM"):
        assert text in page


def test_approving_ones_own_request_is_refused_with_a_clear_message(approver, cluster):
    own_namespace(approver, cluster, "deploy", team="team-deploy")
    client = client_for(approver)
    post_guide_request(client, cluster)
    request = AccessRequest.objects.get()
    response = client.post(reverse("request-approve", args=[request.pk]))
    assert response.status_code == 403
    assert "You cannot approve your own request" in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.PENDING


def test_form_errors_show_on_their_fields_and_save_nothing(requester, cluster):
    response = post_guide_request(
        client_for(requester),
        cluster,
        namespace="Bad_NS",
        **{"secrets-1-secret": "arn:aws:secretsmanager:eu-west-1:287796791794:secret:x-AbC123"},
    )
    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert "namespace" in form.errors
    assert "ARN region must match region us-west-2" in " ".join(formset.forms[1].errors["secret"])
    assert 'id="id_namespace_errors"' in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_hostile_input_never_500s(requester, cluster):
    response = post_guide_request(
        client_for(requester),
        cluster,
        cluster="not-a-number",
        service="<script>alert(1)</script>",
        **{"secrets-TOTAL_FORMS": "abc"},
    )
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_draft_then_submit_from_the_page(requester, cluster):
    client = client_for(requester)
    post_guide_request(client, cluster, action="draft")
    request = AccessRequest.objects.get()
    assert request.state == RequestState.DRAFT
    client.post(reverse("request-submit", args=[request.pk]))
    request.refresh_from_db()
    assert request.state == RequestState.PENDING


def test_secret_form_fragment_bumps_the_total(requester):
    response = client_for(requester).get(reverse("request-secret-form") + "?index=3")
    body = response.content.decode()
    assert 'name="secrets-3-secret"' in body
    assert 'name="secrets-TOTAL_FORMS"' in body and 'value="4"' in body


def test_list_pages_use_a_constant_number_of_queries(
    requester, approver, cluster, django_assert_max_num_queries
):
    for _ in range(30):
        SecretGrantFactory(request=AccessRequestFactory(requester=requester, cluster=cluster))
    alice, pat = client_for(requester), client_for(approver)
    with django_assert_max_num_queries(6):
        assert alice.get(reverse("request-list")).status_code == 200
    with django_assert_max_num_queries(6):
        assert pat.get(reverse("approval-queue")).status_code == 200


def test_detail_page_query_count_does_not_grow_with_history(
    requester, approver, cluster, django_assert_max_num_queries
):
    request = AccessRequestFactory(requester=requester, cluster=cluster)
    for i in range(5):
        SecretGrantFactory(request=request, alias=f"file-{i}")
    client = client_for(approver)
    for i in range(10):
        client.post(reverse("request-comment", args=[request.pk]), {"body": f"note {i}"})
    with django_assert_max_num_queries(10):
        assert client.get(request.get_absolute_url()).status_code == 200
