"""Which pull request merges first, on the request page and on the server:
infra first for a grant (the role before the pods name it), deploy first for
a revocation (the pods let go of the role before it is deleted). The demo's
merge button is disabled, with the reason, for the other one, and a POST
made anyway is refused. Real local git repositories."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from secrets_app.models import PullRequest, RequestState
from secrets_app.requests import provisioning, revocation
from tests.changes.change_support import granted, local_files, local_world
from tests.support.access_requests import approve, make_pending, state_of

pytestmark = pytest.mark.django_db


def opened(request, approver):
    approve(request, approver)  # no worker: open them inline
    provisioning.open_pull_requests(request.pk)
    return {p.repository: p for p in PullRequest.objects.filter(request=request)}


@pytest.fixture
def cluster(settings, tmp_path):
    return local_world(settings, tmp_path)


def merge(client, pull):
    return client.post(reverse("pull-request-merge", args=[pull.pk]), follow=True)


def test_a_grant_merges_infra_first_and_the_server_refuses_deploy_first(
    client, cluster, requester, approver
):
    request = make_pending(cluster, requester=requester)
    pulls = opened(request, approver)
    before = local_files(cluster, "deploy")
    client.force_login(approver)

    page = merge(client, pulls["deploy"]).content.decode()
    assert f"Merge the infra pull request #{pulls['infra'].number} first" in page
    pulls["deploy"].refresh_from_db()
    assert pulls["deploy"].state == "open"
    assert local_files(cluster, "deploy") == before  # nothing merged in git either
    assert state_of(request) == RequestState.PROVISIONING

    merge(client, pulls["infra"])
    merge(client, pulls["deploy"])
    assert state_of(request) == RequestState.ACTIVE


def test_a_revocation_merges_deploy_first(client, cluster, requester, approver, second_approver):
    binding = granted(cluster, requester, approver)
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=binding.pk, requester=requester, reason="retired"
        )
    pulls = opened(revoke, second_approver)
    client.force_login(second_approver)

    page = merge(client, pulls["infra"]).content.decode()
    assert f"Merge the deploy pull request #{pulls['deploy'].number} first" in page
    assert "must stop using the IAM role before it is deleted" in page
    pulls["infra"].refresh_from_db()
    assert pulls["infra"].state == "open"

    merge(client, pulls["deploy"])
    merge(client, pulls["infra"])
    assert {p.state for p in PullRequest.objects.filter(request=revoke)} == {"merged"}


def test_the_request_page_says_which_first_and_disables_the_other(
    client, cluster, requester, approver
):
    request = make_pending(cluster, requester=requester)
    pulls = opened(request, approver)
    client.force_login(approver)
    html = client.get(request.get_absolute_url()).content.decode()
    assert "Merge the infra pull request first" in html
    infra_at = html.index(reverse("pull-request-detail", args=[pulls["infra"].pk]))
    deploy_at = html.index(reverse("pull-request-detail", args=[pulls["deploy"].pk]))
    assert infra_at < deploy_at, "the one to merge first is listed first"
    assert reverse("pull-request-merge", args=[pulls["infra"].pk]) in html
    assert reverse("pull-request-merge", args=[pulls["deploy"].pk]) not in html
    assert (
        f'<button type="button" disabled aria-describedby="blocked-{pulls["deploy"].pk}">' in html
    )

    # Once infra is merged, deploy's button is there.
    provisioning.merge_local_pull_request(pulls["infra"], actor=approver)
    html = client.get(request.get_absolute_url()).content.decode()
    assert reverse("pull-request-merge", args=[pulls["deploy"].pk]) in html
    assert "disabled" not in html
    assert "Merge the infra pull request first" not in html


def test_the_pull_request_page_disables_merging_out_of_order(client, cluster, requester, approver):
    pulls = opened(make_pending(cluster, requester=requester), approver)
    client.force_login(approver)
    html = client.get(reverse("pull-request-detail", args=[pulls["deploy"].pk])).content.decode()
    assert 'disabled aria-describedby="blocked"' in html
    assert "the IAM role and its policy must exist before the pods use them" in html
    assert reverse("pull-request-merge", args=[pulls["deploy"].pk]) not in html


def test_the_progress_poll_brings_the_state_badge_out_of_band(client, cluster, requester, approver):
    """The badge at the top of the request page follows the panel: the
    polled fragment carries it with hx-swap-oob, the full page once."""
    request = make_pending(cluster, requester=requester)
    pulls = opened(request, approver)
    client.force_login(requester)
    page = client.get(request.get_absolute_url()).content.decode()
    assert page.count('id="request-state"') == 1
    assert "hx-swap-oob" not in page

    for pull in (pulls["infra"], pulls["deploy"]):
        provisioning.merge_local_pull_request(pull, actor=approver)
    poll = client.get(
        reverse("request-progress", args=[request.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert (
        '<span id="request-state" class="badge state-active" hx-swap-oob="true">Active</span>'
        in poll
    )
    assert 'id="progress"' in poll
