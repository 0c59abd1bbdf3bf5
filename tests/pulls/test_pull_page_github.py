"""On GitHub, pull request links go to GitHub: the request page links its
html_url, and the portal's page sends there."""

import pytest
from django.urls import reverse

from secrets_app.models import PullRequest
from tests.factories import ClusterFactory
from tests.support.access_requests import make_pending

pytestmark = pytest.mark.django_db

URL = "https://github.com/acme/infra/pull/7"
DEPLOY = "https://github.com/acme/deploy/pull/3"


def test_github_links_go_to_github(client, requester, approver):
    request = make_pending(ClusterFactory(repo_backend="github"), requester=requester)
    request.state = "provisioning"
    request.save(update_fields=["state"])
    pull = PullRequest.objects.create(
        request=request, repository="infra", repo_name="acme/infra", branch="b", number=7, url=URL
    )
    PullRequest.objects.create(
        request=request,
        repository="deploy",
        repo_name="acme/deploy",
        branch="b",
        number=3,
        url=DEPLOY,
    )
    client.force_login(approver)
    html = client.get(reverse("request-detail", args=[request.pk])).content.decode()
    assert f'href="{URL}"' in html
    # The order is said on GitHub too; GitHub's merge button is GitHub's.
    assert "Merge the infra pull request first" in html
    assert html.index(URL) < html.index(DEPLOY)
    assert "Merge (local demo)" not in html
    assert reverse("pull-request-detail", args=[pull.pk]) not in html
    response = client.get(reverse("pull-request-detail", args=[pull.pk]))
    assert (response.status_code, response["Location"]) == (302, URL)
