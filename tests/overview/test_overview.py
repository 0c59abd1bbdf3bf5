"""The landing page: a person's bindings and requests, and what waits for
them (approvals for approvers, requests to fix, bindings expiring or not
working), in a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from secrets_app.models import Comment, Decision, RequestState, Verdict
from tests.factories import AccessRequestFactory, BindingFactory

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + datetime.timedelta(days=3)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_new_user_lands_on_an_overview_that_says_where_to_start(client, requester):
    client.force_login(requester)
    page = client.get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Nothing waits for you." in text
    assert "You own no binding yet" in text and "File your first request" in text
    assert reverse("request-create") in text


def test_what_waits_for_the_requester(client, requester, cluster):
    client.force_login(requester)
    draft = AccessRequestFactory(
        requester=requester, cluster=cluster, service="draft-one", state=RequestState.DRAFT
    )
    rejected = AccessRequestFactory(
        requester=requester,
        cluster=cluster,
        service="rejected-one",
        state=RequestState.REJECTED,
        decided_at=timezone.now(),
    )
    expiring = BindingFactory(cluster=cluster, owner=requester, service="ends", expires_on=SOON)
    failing = BindingFactory(cluster=cluster, owner=requester, service="broken")
    failing.health_status = "failing"
    failing.save()
    BindingFactory(cluster=cluster, service="someone-elses", expires_on=SOON)
    text = client.get("/").content.decode()
    waiting = text.split('id="waiting"')[1].split('id="your-bindings"')[0]
    assert "submit it or cancel it" in waiting and f"#{draft.pk} draft-one" in waiting
    assert "copy it into a new request" in waiting and f"#{rejected.pk}" in waiting
    assert expiring.get_absolute_url() in waiting and SOON.isoformat() in waiting
    assert failing.get_absolute_url() in waiting
    assert "someone-elses" not in text
    assert "Requests to decide" not in text  # not an approver


def test_approvers_see_what_they_may_still_decide(client, approver, requester, cluster):
    theirs = AccessRequestFactory(requester=requester, cluster=cluster, service="to-decide")
    decided = AccessRequestFactory(requester=requester, cluster=cluster, service="decided")
    Decision.objects.create(request=decided, approver=approver, verdict=Verdict.APPROVE)
    own = AccessRequestFactory(requester=approver, cluster=cluster, service="own-request")
    client.force_login(approver)
    waiting = client.get("/").content.decode().split('id="your-bindings"')[0]
    assert "Requests to decide" in waiting
    assert theirs.get_absolute_url() in waiting
    assert decided.get_absolute_url() not in waiting
    assert (
        f'href="{own.get_absolute_url()}">#{own.pk}'
        not in waiting.split("Requests to decide")[1].split("</ul>")[0]
    )


def test_an_approvers_comment_asks_the_requester_to_answer(client, requester, approver, cluster):
    asked = AccessRequestFactory(requester=requester, cluster=cluster, service="asked")
    answered = AccessRequestFactory(requester=requester, cluster=cluster, service="answered")
    Comment.objects.create(request=asked, author=approver, body="Which namespace, really?")
    Comment.objects.create(request=answered, author=approver, body="Why two secrets?")
    Comment.objects.create(request=answered, author=requester, body="The API key too.")
    client.force_login(requester)
    waiting = client.get("/").content.decode().split('id="your-bindings"')[0]
    assert "Comments on your requests" in waiting
    assert f"#{asked.pk} asked" in waiting and f"#{answered.pk} answered" not in waiting


def test_approvers_see_pull_requests_to_review(client, approver, requester, cluster):
    opened = AccessRequestFactory(
        requester=requester,
        cluster=cluster,
        service="opened",
        state=RequestState.PROVISIONING,
        prs_opened_at=timezone.now(),
    )
    client.force_login(approver)
    waiting = client.get("/").content.decode().split('id="your-bindings"')[0]
    assert "Pull requests to review and merge" in waiting
    assert opened.get_absolute_url() in waiting
    client.force_login(requester)
    assert "Pull requests to review" not in client.get("/").content.decode()


def test_the_overview_costs_the_same_queries_for_many_rows(client, approver, requester, cluster):
    client.force_login(approver)

    def some(n):
        for i in range(n):
            AccessRequestFactory(requester=requester, cluster=cluster, service=f"theirs-{n}-{i}")
            AccessRequestFactory(
                requester=approver, cluster=cluster, service=f"mine-{n}-{i}", state="draft"
            )
            b = BindingFactory(
                cluster=cluster, owner=approver, service=f"b-{n}-{i}", expires_on=SOON
            )
            b.health_status = "failing"
            b.save()
            commented = AccessRequestFactory(
                requester=approver, cluster=cluster, service=f"asked-{n}-{i}"
            )
            Comment.objects.create(request=commented, author=requester, body="Why?")
            AccessRequestFactory(
                requester=requester,
                cluster=cluster,
                service=f"open-{n}-{i}",
                state=RequestState.PROVISIONING,
                prs_opened_at=timezone.now(),
            )

    some(1)
    few = _queries(client, "/")
    some(20)
    many = _queries(client, "/")
    assert few == many
    # Session, user, groups, and one query per list.
    assert many <= 12, many
