"""The fleet check on local git: what the portal wrote is recorded when a
grant merges; an older render is outdated; a file edited by hand, or whose
origin the portal does not know, is reported as such; a new path another
holder has is a conflict; a binding with a change in flight waits."""

from __future__ import annotations

import pytest

from secrets_app.fleet.check import FileState, Status, check_fleet
from secrets_app.fleet.expected import spec_datas
from secrets_app.integrations.repos import blob_id
from secrets_app.models import Claim, ClaimKind
from secrets_app.ownership.claims import path_key, repository_key
from secrets_app.requests.specs import spec_data_for_request
from tests.changes.change_support import ask_change
from tests.factories import AccessRequestFactory
from tests.fleet.fleet_support import (
    as_if_rendered_before,
    commit_local,
    grant,
    main_files,
)

pytestmark = pytest.mark.django_db


def statuses(report):
    return {c.binding.pk: c.status for c in report.checks}


def test_a_merged_grant_records_what_it_wrote_and_is_current(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    for repository in ("infra", "deploy"):
        files = main_files(world, repository)
        assert binding.file_hashes[repository] == {
            p: blob_id(files[p]) for p in binding.files[repository]
        }
    report = check_fleet()
    assert statuses(report) == {binding.pk: Status.CURRENT}
    assert report.differing() == []


def test_the_specs_read_in_bulk_are_the_pull_requests_specs(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    change = ask_change(binding, requester)
    datas = spec_datas([binding.request_id, change.pk], {world.pk: world})
    assert datas[binding.request_id] == spec_data_for_request(binding.request)
    assert datas[change.pk] == spec_data_for_request(change)


def test_an_older_render_is_outdated(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    check = check_fleet().checks[0]
    assert check.status == Status.OUTDATED
    assert {f.state for f in check.differing} == {FileState.UPDATE}
    assert {f.path for f in check.differing} == {
        *binding.files["infra"],
        *binding.files["deploy"],
    }


def test_a_file_edited_by_hand_is_reported(world, requester, approver):
    outdated = grant(world, "billing", requester, approver)
    edited = grant(world, "ledger", requester, approver)
    as_if_rendered_before(outdated)
    as_if_rendered_before(edited)
    path = edited.files["deploy"][0]
    commit_local(world, "deploy", {path: "# someone's own version\n"})
    report = check_fleet()
    assert statuses(report) == {outdated.pk: Status.OUTDATED, edited.pk: Status.HAND_EDITED}
    [hand] = [f for f in report.checks[1].files if f.state == FileState.EDITED]
    assert (hand.path, hand.reason) == (path, "changed since the portal wrote it")


def test_a_file_deleted_by_hand_is_reported(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    commit_local(world, "infra", {binding.files["infra"][0]: None})
    [check] = check_fleet().checks
    assert check.status == Status.HAND_EDITED
    assert [f.reason for f in check.files if f.state == FileState.EDITED] == ["deleted by hand"]


def test_without_a_record_of_what_was_written_the_origin_is_unknown(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding, record=False)
    [check] = check_fleet().checks
    assert check.status == Status.UNKNOWN_ORIGIN
    assert {f.state for f in check.differing} == {FileState.UNKNOWN}


def test_unknown_origin_with_current_files_is_current(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    binding.file_hashes = {}
    binding.save(update_fields=["file_hashes"])
    assert check_fleet().checks[0].status == Status.CURRENT


def test_a_new_path_is_added_and_an_old_one_deleted(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    world.deploy_path_template = "apps/{cluster}/{namespace}/{service}"
    world.save(update_fields=["deploy_path_template"])
    [check] = check_fleet().checks
    assert check.status == Status.OUTDATED
    deploy = {f.path: f.state for f in check.files if f.repository == "deploy"}
    assert {p for p, s in deploy.items() if s == FileState.DELETE} == set(binding.files["deploy"])
    added = {p for p, s in deploy.items() if s == FileState.ADD}
    assert added and all(p.startswith("apps/janus-local/deploy/billing/") for p in added)


def test_a_new_path_another_holder_has_is_a_conflict(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    world.deploy_path_template = "apps/{service}"
    world.save(update_fields=["deploy_path_template"])
    other = AccessRequestFactory(cluster=world, service="squatter")
    key = path_key(repository_key(world, "deploy"), "apps/billing/serviceaccount.yaml")
    Claim.objects.create(kind=ClaimKind.PATH, key=key, request=other)
    [check] = check_fleet().checks
    assert check.status == Status.CONFLICT
    [held] = [f for f in check.files if f.state == FileState.HELD]
    assert held.reason == f"belongs to request #{other.pk}"
    assert binding.pk == check.binding.pk


def test_a_binding_with_a_change_in_flight_waits(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    ask_change(binding, requester)
    assert check_fleet().checks[0].status == Status.BUSY


def test_a_request_that_no_longer_renders_is_reported(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    binding.request.secrets.update(alias="../escape")
    [check] = check_fleet().checks
    assert check.status == Status.UNRENDERABLE
    assert "alias" in check.problem


def test_an_unreadable_repository_is_reported(world, requester, approver, settings, tmp_path):
    grant(world, "billing", requester, approver)
    world.deploy_repo = str(tmp_path / "nowhere.git")
    world.save(update_fields=["deploy_repo"])
    report = check_fleet()
    assert report.checks[0].status == Status.UNREADABLE
    assert report.problems and "nowhere.git" in report.problems[0]


def test_files_a_binding_holds_without_a_record_are_of_unknown_origin(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding, record=False)
    # Made before the portal recorded the paths its pull requests wrote: its
    # claims still say which files are its own.
    binding.files = {}
    binding.save(update_fields=["files"])
    [check] = check_fleet().checks
    assert check.status == Status.UNKNOWN_ORIGIN
