"""What the timeline simulation found, each as a small ordinary test (the
simulation's shrunk example, told step by step)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from secrets_app.models import AuditEvent, PullRequest, RequestState
from secrets_app.requests import provisioning
from secrets_app.tasks.provisioning import poll_pull_requests
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.github import signed

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(payload: dict, delivery_id: str) -> dict:
    body = json.dumps(payload).encode()
    response = Client().post(
        reverse("github-webhook"),
        body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="pull_request",
        HTTP_X_GITHUB_DELIVERY=delivery_id,
        HTTP_X_HUB_SIGNATURE_256=signed(body),
    )
    assert response.status_code == 200
    return response.json()


def opened(github_cluster, approver):
    request = make_pending(github_cluster)
    approve(request, approver)
    provisioning.open_pull_requests(request.pk)  # the task's work, inline
    return request, {p.repository: p for p in PullRequest.objects.filter(request=request)}


def test_an_old_closed_webhook_after_the_poll_saw_the_reopen_changes_nothing(
    github, github_cluster, approver
):
    request, pulls = opened(github_cluster, approver)
    number = pulls["infra"].number
    github.close_pull("platform", "kilonova", number)
    closed = github.webhook_payload("platform", "kilonova", number, "closed")
    deliver(closed, "delivery-1")
    assert state_of(request) == RequestState.NEEDS_ATTENTION
    github.reopen_pull("platform", "kilonova", number)  # its webhook is lost
    poll_pull_requests()
    assert state_of(request) == RequestState.PROVISIONING

    # The closed event again, late or replayed under a new delivery id.
    deliver(closed, "delivery-2")
    assert PullRequest.objects.get(pk=pulls["infra"].pk).state == "open"
    assert state_of(request) == RequestState.PROVISIONING
    closes = AuditEvent.objects.filter(request=request, action="pull_request.closed")
    assert closes.count() == 1
