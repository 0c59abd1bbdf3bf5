"""A pull request's URL comes from the Git server's answer and is shown as a
link: anything but http(s) is dropped before it is stored."""

import pytest

from secrets_app.integrations.repos import PullRequestRef
from secrets_app.requests import workflow
from tests.factories import AccessRequestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://github.example/o/r/pull/1", "https://github.example/o/r/pull/1"),
        ("javascript:alert(document.cookie)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("JaVaScRiPt:alert(1)", ""),
    ],
)
def test_only_web_urls_are_kept(url, stored):
    request = AccessRequestFactory(state="provisioning")
    ref = PullRequestRef(number=1, url=url, state="open", head_sha="abc")
    pull = workflow.pull_request_record(
        request_id=request.pk, repository="infra", repo_name="o/r", branch="b", ref=ref
    )
    pull.refresh_from_db()
    assert pull.url == stored
