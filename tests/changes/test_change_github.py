"""A change on GitHub (the loopback fake, through PyGithub): the change
branch updates the binding's files where they are, rather than failing on
files that already exist, and merging puts the new content at the same
paths."""

from __future__ import annotations

import pytest

from secrets_app.models import Binding, RequestState
from secrets_app.requests import provisioning
from tests.changes.change_support import API_ARN, ask_change
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.github import DEPLOY, INFRA

pytestmark = pytest.mark.django_db


def merge_on_github(github, request) -> None:
    pulls = sorted(request.pull_requests.all(), key=lambda p: p.repository != "infra")
    for pull in pulls:
        github.merge_pull(*pull.repo_name.split("/"), pull.number)
    provisioning.refresh_pull_requests(request)


def test_a_change_updates_existing_files_on_github(github, github_cluster, requester, approver):
    grant = make_pending(github_cluster, requester=requester)
    approve(grant, approver)
    provisioning.open_pull_requests(grant.pk)
    merge_on_github(github, grant)
    binding = Binding.objects.get(request=grant)
    before = {full: github.branch_files(*full.split("/"), "main") for full in (INFRA, DEPLOY)}

    change = ask_change(binding, requester)
    approve(change, approver)
    provisioning.open_pull_requests(change.pk)
    branch = f"portal/change-{change.pk}"
    for full in (INFRA, DEPLOY):
        on_branch = github.branch_files(*full.split("/"), branch)
        # The same files, some of them with new content.
        assert set(on_branch) == set(before[full])
        assert on_branch != before[full]
    assert state_of(change) == RequestState.PROVISIONING

    merge_on_github(github, change)
    assert state_of(change) == RequestState.CHANGED
    infra = github.branch_files(*INFRA.split("/"), "main")
    assert set(infra) == set(before[INFRA])
    assert any(API_ARN in text for text in infra.values())
    binding.refresh_from_db()
    assert sorted(binding.secrets.values_list("alias", flat=True)) == ["api-key", "dcp-db-password"]
