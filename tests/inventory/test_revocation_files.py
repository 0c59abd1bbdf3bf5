"""A revocation deletes exactly the files its binding owns: a portal
binding's recorded paths (even after the cluster's layout changed), an
imported binding's files found in the repositories (listed before anyone
approves), or it is refused with the reason and nothing is written. Real
local git repositories and the loopback GitHub; merged as a person would."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from secrets_app.models import AccessRequest, Binding, PullRequest, RequestState
from secrets_app.requests import provisioning, revocation, workflow
from secrets_app.requests.kinds import REVOKE
from tests.inventory.revocation_support import (
    DEPLOYMENT,
    IMPORTED_FILES,
    NEIGHBOURS,
    OTHER_ROLE_TF,
    ROLE_TF,
    imported_binding,
    local_cluster,
    local_files,
    repository_files,
)
from tests.support.access_requests import approve, make_pending, state_of
from tests.support.github import DEPLOY, INFRA

pytestmark = pytest.mark.django_db


def _revoke(binding: Binding, asker) -> AccessRequest:
    with transaction.atomic():
        return revocation.request_revocation(
            binding_id=binding.pk, requester=asker, reason="retired"
        )


def _merge_locally(request: AccessRequest, actor, *, first: str) -> None:
    """The demo's merge button, ``first`` repository first."""
    pulls = sorted(request.pull_requests.all(), key=lambda p: p.repository != first)
    for pull in pulls:
        provisioning.merge_local_pull_request(pull, actor=actor)


def _pull_paths(request: AccessRequest) -> dict[str, list[str]]:
    return {p.repository: list(p.paths) for p in request.pull_requests.all()}


def test_a_portal_binding_revocation_deletes_its_recorded_paths_after_a_layout_change(
    settings, tmp_path, client, requester, approver
):
    cluster = local_cluster(settings, tmp_path, {r: NEIGHBOURS[r] for r in ("infra", "deploy")})
    grant = make_pending(cluster, requester=requester)
    approve(grant, approver)
    provisioning.open_pull_requests(grant.pk)
    _merge_locally(grant, approver, first="infra")
    binding = Binding.objects.get(request=grant)
    written = {
        r: sorted(set(local_files(cluster, r)) - set(NEIGHBOURS[r])) for r in ("infra", "deploy")
    }
    assert binding.files == written and all(written.values())

    # The platform team moves the cluster's files; the grant's stay where they are.
    cluster.deploy_path_template = "apps/{namespace}/{service}"
    cluster.infra_path_template = "terraform/{cluster}"
    cluster.save()

    revoke = _revoke(binding, requester)
    assert revoke.deletes == written
    page = client_page(client, approver, revoke.get_absolute_url())
    assert all(path in page for paths in written.values() for path in paths)
    assert "apps/deploy/" not in page and "terraform/janus-local" not in page

    approve(revoke, approver)
    provisioning.open_pull_requests(revoke.pk)
    assert _pull_paths(revoke) == written
    _merge_locally(revoke, approver, first=REVOKE.merge_first)
    for repository in ("infra", "deploy"):
        assert local_files(cluster, repository) == NEIGHBOURS[repository]


def test_a_binding_whose_grant_newer_rules_refuse_is_still_revocable(
    settings, tmp_path, client, requester, approver
):
    """Granted before mounts over /etc were refused: its revocation deletes
    the recorded paths without rendering the grant again."""
    cluster = local_cluster(settings, tmp_path, {r: NEIGHBOURS[r] for r in ("infra", "deploy")})
    grant = make_pending(cluster, requester=requester)
    approve(grant, approver)
    provisioning.open_pull_requests(grant.pk)
    _merge_locally(grant, approver, first="infra")
    binding = Binding.objects.get(request=grant)
    AccessRequest.objects.filter(pk=grant.pk).update(mount_path="/etc/app")  # refused today

    revoke = _revoke(binding, requester)
    assert revoke.deletes == binding.files
    client_page(client, approver, revoke.get_absolute_url())
    approve(revoke, approver)
    provisioning.open_pull_requests(revoke.pk)
    _merge_locally(revoke, approver, first=REVOKE.merge_first)
    for repository in ("infra", "deploy"):
        assert local_files(cluster, repository) == NEIGHBOURS[repository]


def client_page(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_imported_binding_revocation_lists_and_deletes_exactly_its_files(
    settings, tmp_path, client, approver, second_approver
):
    cluster = local_cluster(settings, tmp_path, repository_files())
    binding = imported_binding(cluster)
    wanted = {r: sorted(IMPORTED_FILES[r]) for r in ("infra", "deploy")}

    # Where it is asked for: the binding page loads the list (htmx).
    page = client_page(client, approver, binding.get_absolute_url())
    files_url = reverse("binding-revoke-files", args=[binding.pk])
    assert f'hx-get="{files_url}"' in page
    fragment = client.get(files_url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert all(f"<code>{p}</code>" in fragment for paths in wanted.values() for p in paths)
    assert "deployment.yaml" not in fragment and "billing" not in fragment

    revoke = _revoke(binding, approver)
    assert revoke.deletes == wanted
    # The approver sees them before approving.
    page = client_page(client, second_approver, revoke.get_absolute_url())
    assert "Files the pull requests will delete" in page
    assert all(f"<code>{p}</code>" in page for paths in wanted.values() for p in paths)

    approve(revoke, second_approver)
    provisioning.open_pull_requests(revoke.pk)
    assert _pull_paths(revoke) == wanted
    _merge_locally(revoke, second_approver, first=REVOKE.merge_first)
    for repository in ("infra", "deploy"):
        assert local_files(cluster, repository) == NEIGHBOURS[repository]
    assert state_of(revoke) != RequestState.FAILED


def test_an_imported_binding_on_github_is_found_in_four_requests_and_deleted(
    github, github_cluster, approver, second_approver
):
    files = repository_files()
    for full, repository in ((INFRA, "infra"), (DEPLOY, "deploy")):
        github.create_repo(*full.split("/"), files=files[repository])
    binding = imported_binding(github_cluster)
    wanted = {r: sorted(IMPORTED_FILES[r]) for r in ("infra", "deploy")}

    github.clear_log()
    revoke = _revoke(binding, approver)
    assert revoke.deletes == wanted
    # A tarball request and its download per repository, whatever their size.
    assert [(e.method, e.status) for e in github.log] == [("GET", 302), ("GET", 200)] * 2

    approve(revoke, second_approver)
    provisioning.open_pull_requests(revoke.pk)
    assert _pull_paths(revoke) == wanted
    pulls = {p.repository: p for p in revoke.pull_requests.all()}
    for repository in (REVOKE.merge_first, "infra"):
        github.merge_pull(*pulls[repository].repo_name.split("/"), pulls[repository].number)
    provisioning.refresh_pull_requests(revoke)
    assert set(PullRequest.objects.filter(request=revoke).values_list("state", flat=True)) == {
        "merged"
    }
    for full, repository in ((INFRA, "infra"), (DEPLOY, "deploy")):
        assert github.branch_files(*full.split("/"), "main") == NEIGHBOURS[repository]


@pytest.mark.parametrize(
    "changes, reason",
    [
        (
            {"infra": {"terraform/roles/ledger.tf": None}},
            'IAM role legacy-ledger (resource "aws_iam_role") is not declared in the .tf files '
            "of {infra} and {deploy} on main",
        ),
        (
            {"deploy": {"k8s/legacy/ledger/sa.yaml": None}},
            "ServiceAccount legacy/ledger is not declared in the .yaml/.yml files "
            "of {infra} and {deploy} on main",
        ),
        (
            {
                "deploy": {
                    "k8s/legacy/ledger/sa.yaml": IMPORTED_FILES["deploy"][
                        "k8s/legacy/ledger/sa.yaml"
                    ]
                    + "---\n"
                    + DEPLOYMENT
                }
            },
            "k8s/legacy/ledger/sa.yaml also defines Deployment legacy/ledger",
        ),
        (
            {"infra": {"terraform/roles/ledger.tf": ROLE_TF + OTHER_ROLE_TF}},
            'terraform/roles/ledger.tf also declares resource "aws_iam_role" "billing"',
        ),
    ],
    ids=["no-role-file", "no-service-account", "sa-file-holds-a-deployment", "two-roles"],
)
def test_a_revocation_that_cannot_delete_whole_files_is_refused_and_writes_nothing(
    settings, tmp_path, client, approver, changes, reason
):
    cluster = local_cluster(settings, tmp_path, repository_files(**changes))
    binding = imported_binding(cluster)
    expected = reason.format(infra=cluster.repository("infra"), deploy=cluster.repository("deploy"))

    with pytest.raises(workflow.WorkflowError) as refused:
        _revoke(binding, approver)
    assert refused.value.code == "files_not_deletable"
    assert expected in refused.value.message
    assert "Remove it by hand and ask an admin to mark it revoked" in refused.value.message

    # The page that asks says so, and the form refuses the same way.
    fragment = client_page(client, approver, reverse("binding-revoke-files", args=[binding.pk]))
    assert expected in fragment.replace("&quot;", '"')
    response = client.post(reverse("binding-revoke", args=[binding.pk]), {"reason": "retired"})
    assert response.status_code == 409
    assert not AccessRequest.objects.filter(revokes=binding).exists()
    assert not AccessRequest.objects.exists()


def test_unreadable_repositories_refuse_and_write_nothing(github, github_cluster, approver):
    binding = imported_binding(github_cluster)
    github.inject("GET", r"/tarball/", status=502)

    with pytest.raises(workflow.WorkflowError, match="could not read the repositories") as refused:
        _revoke(binding, approver)
    assert refused.value.code == "repositories_unreadable"
    assert not AccessRequest.objects.exists()


def test_the_api_shows_what_a_revocation_deletes(settings, tmp_path, approver):
    from rest_framework.test import APIClient

    cluster = local_cluster(settings, tmp_path, repository_files())
    binding = imported_binding(cluster)
    api = APIClient()
    api.force_authenticate(approver)
    made = api.post(f"/api/bindings/{binding.pk}/revoke/", {"reason": "retired"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["deletes"] == {r: sorted(IMPORTED_FILES[r]) for r in ("infra", "deploy")}
    shown = api.get(f"/api/requests/{made.json()['id']}/").json()
    assert shown["deletes"] == made.json()["deletes"]


def test_only_those_who_may_revoke_see_the_files(settings, tmp_path, client, other_user):
    cluster = local_cluster(settings, tmp_path, repository_files())
    binding = imported_binding(cluster)
    client.force_login(other_user)
    assert client.get(reverse("binding-revoke-files", args=[binding.pk])).status_code == 403
