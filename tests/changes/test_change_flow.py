"""A change request end to end, through the workflow's services and real
local git repositories: filed by the binding's owner, approved, its pull
requests rewrite the binding's files in place (the file's history shows the
change commit modifying it), merged; the binding takes the new secrets and
keeps its history."""

from __future__ import annotations

import pytest

from secrets_app.models import (
    AuditEvent,
    Binding,
    Claim,
    ClaimKind,
    PullRequest,
    RequestKind,
    RequestState,
)
from tests.changes.change_support import (
    API_ARN,
    API_SECRET,
    GUIDE_SECRET,
    ask_change,
    carried_out,
    file_log,
    granted,
    local_files,
    local_world,
)
from tests.support.access_requests import state_of

pytestmark = pytest.mark.django_db


def test_a_change_rewrites_the_bindings_files_in_place(settings, tmp_path, requester, approver):
    cluster = local_world(settings, tmp_path)
    binding = granted(cluster, requester, approver)
    files_before = binding.files
    contents_before = {r: local_files(cluster, r) for r in ("infra", "deploy")}

    change = ask_change(binding, requester)
    assert (change.kind, change.state, change.changes_id) == (
        RequestKind.CHANGE,
        RequestState.PENDING,
        binding.pk,
    )
    carried_out(change, approver)

    pulls = {p.repository: p for p in PullRequest.objects.filter(request=change)}
    assert {p.branch for p in pulls.values()} == {f"portal/change-{change.pk}"}
    assert {p.purpose for p in pulls.values()} == {"change"}
    assert state_of(change) == RequestState.CHANGED
    binding = Binding.objects.get(pk=binding.pk)
    # The same paths, rewritten: nothing moved, nothing deleted.
    assert binding.files == files_before
    for repository, paths in files_before.items():
        now = local_files(cluster, repository)
        assert set(now) == set(contents_before[repository])
        assert any(now[p] != contents_before[repository][p] for p in paths)
        for path in paths:
            log = file_log(cluster, repository, path)
            statuses = [status for status, _ in log]
            # Added by the grant; the change's commit modified it (or left it be).
            assert statuses[-1] == "A" and set(statuses[:-1]) <= {"M"}
    assert any(API_ARN in text for text in local_files(cluster, "infra").values())
    spc = next(p for p in files_before["deploy"] if p.endswith("secretproviderclass.yaml"))
    assert file_log(cluster, "deploy", spc)[0][0] == "M"
    assert "api-key" in local_files(cluster, "deploy")[spc]

    assert sorted(binding.secrets.values_list("alias", flat=True)) == [
        "api-key",
        "dcp-db-password",
    ]
    assert binding.verification_ok is None  # the new policy waits for its run
    changed = AuditEvent.objects.get(action="binding.changed", object_id=str(binding.pk))
    assert changed.after["added"] == ["api-key"] and changed.after["removed"] == []
    # The change ended: it holds nothing; the binding still holds its own.
    assert not Claim.objects.filter(request=change).exists()
    assert Claim.objects.filter(binding=binding, kind=ClaimKind.SERVICE_ACCOUNT).exists()
    assert Claim.objects.filter(binding=binding, kind=ClaimKind.PATH).count() == sum(
        len(p) for p in binding.files.values()
    )


def test_a_second_change_removes_a_secret_and_its_synced_secret(
    settings, tmp_path, requester, approver
):
    cluster = local_world(settings, tmp_path)
    binding = granted(cluster, requester, approver)
    first = ask_change(binding, requester)
    carried_out(first, approver)
    # Now only the API key, not synced any more: the synced Secret goes.
    second = ask_change(binding, requester, API_SECRET, justification="The DB moved.")
    assert state_of(second) == RequestState.PENDING
    carried_out(second, approver)
    binding = Binding.objects.get(pk=binding.pk)
    assert list(binding.secrets.values_list("alias", flat=True)) == ["api-key"]
    assert binding.synced_secret_names == []
    event = AuditEvent.objects.get(action="binding.changed", request=second)
    assert event.after["removed"] == ["dcp-db-password"]
    assert GUIDE_SECRET["secret"] not in "".join(local_files(cluster, "infra").values())


def test_files_the_new_render_no_longer_has_are_deleted_and_their_claims_freed(
    settings, tmp_path, requester, approver
):
    """The platform team moved the cluster's files since the grant: a change
    writes the new paths and deletes the old ones (fixed when it was filed,
    shown before approval); the binding then holds only the new ones."""
    cluster = local_world(settings, tmp_path)
    binding = granted(cluster, requester, approver)
    old = binding.files
    cluster.deploy_path_template = "apps/{namespace}/{service}"
    cluster.save()

    change = ask_change(binding, requester)
    assert change.deletes == {"infra": [], "deploy": old["deploy"]}
    carried_out(change, approver)

    binding = Binding.objects.get(pk=binding.pk)
    assert binding.files["infra"] == old["infra"]
    assert binding.files["deploy"] and all(
        p.startswith("apps/deploy/data-access-service/") for p in binding.files["deploy"]
    )
    deploy = local_files(cluster, "deploy")
    assert set(deploy) == {"README.md", *binding.files["deploy"]}
    for path in old["deploy"]:
        assert [status for status, _ in file_log(cluster, "deploy", path)] == ["D", "A"]
    held = set(
        Claim.objects.filter(binding=binding, kind=ClaimKind.PATH).values_list("key", flat=True)
    )
    assert held == {
        f"{cluster.repository(repo)}:{path}"
        for repo, paths in binding.files.items()
        for path in paths
    }
