"""A pull request records the blob id of each file it writes, following
its branch while it is open (a re-run that rewrote it), never after it
merged."""

from __future__ import annotations

import pytest

from secrets_app.integrations.repos import PullRequestRef
from secrets_app.models import PullRequest, RequestState
from secrets_app.requests import workflow
from tests.factories import AccessRequestFactory

pytestmark = pytest.mark.django_db


def record(request, hashes, state="open"):
    return workflow.pull_request_record(
        request_id=request.pk,
        repository="deploy",
        repo_name="platform/deploy",
        branch=f"portal/request-{request.pk}",
        ref=PullRequestRef(7, "https://github.example/pull/7", state, "abc"),
        paths=sorted(hashes),
        file_hashes=hashes,
    )


def test_the_record_follows_the_branch_until_merged(cluster):
    request = AccessRequestFactory(cluster=cluster, state=RequestState.PROVISIONING)
    assert record(request, {"a.yaml": "1" * 40}).file_hashes == {"a.yaml": "1" * 40}
    assert record(request, {"a.yaml": "2" * 40}).file_hashes == {"a.yaml": "2" * 40}
    PullRequest.objects.filter(request=request).update(state="merged")
    assert record(request, {"a.yaml": "3" * 40}).file_hashes == {"a.yaml": "2" * 40}
