"""The approval queue marks the requests the viewer has approved already and
says how many approvals each still needs, by the workflow's own rule, in
the page's one query whatever the number of rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from secrets_app.models import RequestState
from secrets_app.requests import workflow
from secrets_app.requests.approvals import approvals_needed, has_enough_approvals
from tests.factories import AccessRequestFactory, SecretGrantFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def pending(cluster, requester, service):
    request = AccessRequestFactory(cluster=cluster, requester=requester, service=service)
    SecretGrantFactory(request=request)
    return request


def row_of(page: str, request) -> str:
    """The text of the queue's row for ``request``, tags dropped."""
    for row in page.split("<tr")[1:]:
        if f'href="/requests/{request.pk}/"' in row:
            return " ".join(re.sub(r"<[^>]+>", " ", "<tr" + row).split())
    raise AssertionError(f"request #{request.pk} is not in the queue")


def test_the_rule_counts_what_is_missing():
    assert [approvals_needed(a, 2) for a in (0, 1, 2, 3)] == [2, 1, 0, 0]
    assert [has_enough_approvals(a, 2) for a in (0, 1, 2)] == [False, False, True]


def test_rows_say_who_approved_and_how_many_more_are_needed(
    requester, approver, second_approver, cluster, prod_cluster
):
    half = pending(prod_cluster, requester, "billing")
    untouched = pending(prod_cluster, requester, "ledger")
    dev = pending(cluster, requester, "search")
    workflow.request_approve(request_id=half.pk, approver=approver)

    page = client_for(approver).get(reverse("approval-queue")).content.decode()
    assert "1 of 2 · 1 more needed You approved" in row_of(page, half)
    assert "0 of 2 · 2 more needed" in row_of(page, untouched)
    assert "You approved" not in row_of(page, untouched)
    assert "0 of 1 · 1 more needed" in row_of(page, dev)
    assert 'class="badge approved-by-you"' in page

    # Another approver sees the count, not pat's mark; their approval is the last.
    page = client_for(second_approver).get(reverse("approval-queue")).content.decode()
    assert "1 of 2 · 1 more needed" in row_of(page, half)
    assert "You approved" not in page
    workflow.request_approve(request_id=half.pk, approver=second_approver)
    half.refresh_from_db()
    assert half.state == RequestState.APPROVED
    page = client_for(approver).get(reverse("approval-queue")).content.decode()
    assert f'href="/requests/{half.pk}/"' not in page


def test_a_requirement_lowered_since_says_no_more_are_needed(requester, approver, prod_cluster):
    request = pending(prod_cluster, requester, "billing")
    workflow.request_approve(request_id=request.pk, approver=approver)
    prod_cluster.required_approvals = 1
    prod_cluster.save()
    page = client_for(approver).get(reverse("approval-queue")).content.decode()
    assert "1 of 1 · no more needed You approved" in row_of(page, request)


def test_the_queue_costs_the_same_queries_for_one_row_as_for_forty(
    requester, approver, second_approver, cluster, prod_cluster, django_assert_max_num_queries
):
    client = client_for(approver)
    first = pending(prod_cluster, requester, "svc-0")
    workflow.request_approve(request_id=first.pk, approver=approver)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(reverse("approval-queue")).status_code == 200

    for i in range(1, 40):
        request = pending(prod_cluster if i % 2 else cluster, requester, f"svc-{i}")
        if i % 3 == 0:
            workflow.request_approve(request_id=request.pk, approver=approver)
        elif i % 3 == 1 and i % 2:
            workflow.request_approve(request_id=request.pk, approver=second_approver)
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        page = client.get(reverse("approval-queue")).content.decode()
    assert page.count("You approved") == 1 + len([i for i in range(1, 40) if i % 6 == 3])
    assert len(one_row.captured_queries) <= 6
