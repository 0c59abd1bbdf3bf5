"""Opening and following upgrade pull requests on local git: one per
cluster and repository listing its bindings, hand-edited files left alone
unless forced, new paths claimed and old ones given back once merged, a
second run bringing the same pull request up to date."""

from __future__ import annotations

import pytest

from secrets_app.fleet.check import Status, check_fleet
from secrets_app.fleet.tracking import merge_local_upgrade, upgrade_update_state
from secrets_app.fleet.upgrades import upgrades_open
from secrets_app.integrations.localgit import LocalGitBackend
from secrets_app.integrations.repos import blob_id
from secrets_app.models import AuditEvent, Claim, ClaimKind, Upgrade
from secrets_app.ownership.claims import path_key, repository_key
from secrets_app.rendering import render_binding
from secrets_app.requests.specs import spec_for_request
from secrets_app.tasks.locks import Queued
from secrets_app.tasks.verification import enqueue_verification
from tests.changes.change_support import ask_change, carried_out
from tests.factories import ClusterFactory
from tests.fleet.fleet_support import (
    as_if_rendered_before,
    commit_local,
    grant,
    local_world,
    main_files,
)
from tests.support.celery_worker import emptied_broker

pytestmark = pytest.mark.django_db


def pull_of(upgrade: Upgrade) -> dict:
    backend = LocalGitBackend(upgrade.cluster.repository(upgrade.repository))
    with backend._locked() as pulls:
        return dict(pulls["pulls"][str(upgrade.number)])


def render_of(binding, repository):
    return render_binding(spec_for_request(binding.request)).files[repository]


def test_one_pull_request_per_repository_lists_its_bindings(world, requester, approver):
    bindings = [grant(world, s, requester, approver) for s in ("billing", "ledger", "orders")]
    for b in bindings:
        as_if_rendered_before(b)
    opened = upgrades_open(check_fleet(), actor=approver)
    assert sorted((o.repository, sorted(o.bindings)) for o in opened) == [
        ("deploy", sorted(b.pk for b in bindings)),
        ("infra", sorted(b.pk for b in bindings)),
    ]
    for result in opened:
        upgrade = result.upgrade
        assert upgrade.number is not None and upgrade.state == "open"
        assert upgrade.branch == f"portal/upgrade-janus-local-{upgrade.pk}"
        pull = pull_of(upgrade)
        for b in bindings:
            assert f"#{b.pk} `deploy/{b.service_account}`" in pull["body"]
        assert "3 bindings in janus-local" in pull["title"]
        on_branch = LocalGitBackend(world.repository(upgrade.repository)).read_files(upgrade.branch)
        for b in bindings:
            assert {p: on_branch[p] for p in b.files[upgrade.repository]} == render_of(
                b, upgrade.repository
            )
    assert AuditEvent.objects.filter(action="upgrade.opened").count() == 2


def test_merged_the_bindings_record_their_files_as_current(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    for result in upgrades_open(check_fleet(), actor=approver):
        merge_local_upgrade(result.upgrade, actor=approver)
    binding.refresh_from_db()
    for repository in ("infra", "deploy"):
        rendered = render_of(binding, repository)
        assert binding.file_hashes[repository] == {p: blob_id(t) for p, t in rendered.items()}
        assert main_files(world, repository) | rendered == main_files(world, repository)
    assert check_fleet().checks[0].status == Status.CURRENT
    for upgrade in Upgrade.objects.all():
        assert upgrade.state == "merged"
        assert list(upgrade.entries.values_list("applied", flat=True)) == [True]
    assert AuditEvent.objects.filter(action="upgrade.merged").count() == 2


def test_hand_edited_files_are_left_alone_unless_forced(world, requester, approver):
    outdated = grant(world, "billing", requester, approver)
    edited = grant(world, "ledger", requester, approver)
    as_if_rendered_before(outdated)
    as_if_rendered_before(edited)
    path = edited.files["deploy"][0]
    commit_local(world, "deploy", {path: "# their own\n"})

    opened = {o.repository: o for o in upgrades_open(check_fleet(), actor=approver)}
    assert opened["deploy"].bindings == [outdated.pk]
    deploy = opened["deploy"].upgrade
    on_branch = LocalGitBackend(world.repository("deploy")).read_files(deploy.branch)
    assert on_branch[path] == "# their own\n"

    forced = {o.repository: o for o in upgrades_open(check_fleet(), actor=approver, force=True)}
    assert sorted(forced["deploy"].bindings) == sorted([outdated.pk, edited.pk])
    upgrade = forced["deploy"].upgrade
    assert upgrade.pk == deploy.pk and upgrade.forced  # the same pull request, brought up to date
    on_branch = LocalGitBackend(world.repository("deploy")).read_files(upgrade.branch)
    assert on_branch[path] == render_of(edited, "deploy")[path]
    entry = upgrade.entries.get(binding=edited)
    assert entry.overwrites == [path]
    assert "edited by hand" in pull_of(upgrade)["body"]


def test_unknown_origin_is_upgraded_only_when_forced(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding, record=False)
    assert upgrades_open(check_fleet(), actor=approver) == []
    forced = upgrades_open(check_fleet(), actor=approver, force=True)
    assert {o.repository for o in forced} == {"infra", "deploy"}
    for result in forced:
        merge_local_upgrade(result.upgrade, actor=approver)
    binding.refresh_from_db()
    assert set(binding.file_hashes) == {"infra", "deploy"}
    assert check_fleet().checks[0].status == Status.CURRENT


def test_new_paths_are_claimed_and_old_ones_given_back(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    old_paths = list(binding.files["deploy"])
    world.deploy_path_template = "apps/{cluster}/{namespace}/{service}"
    world.save(update_fields=["deploy_path_template"])
    repo = repository_key(world, "deploy")

    [result] = upgrades_open(check_fleet(), actor=approver)
    assert result.repository == "deploy"
    entry = result.upgrade.entries.get()
    new_paths = entry.writes
    assert entry.deletes == sorted(old_paths)
    held = Claim.objects.filter(kind=ClaimKind.PATH, binding=binding)
    assert {path_key(repo, p) for p in new_paths + old_paths} <= set(
        held.values_list("key", flat=True)
    )

    merge_local_upgrade(result.upgrade, actor=approver)
    binding.refresh_from_db()
    assert binding.files["deploy"] == sorted(new_paths)
    keys = set(held.values_list("key", flat=True))
    assert {path_key(repo, p) for p in new_paths} <= keys
    assert not {path_key(repo, p) for p in old_paths} & keys
    on_main = main_files(world, "deploy")
    assert not set(old_paths) & set(on_main) and set(new_paths) <= set(on_main)
    assert check_fleet().checks[0].status == Status.CURRENT


def test_a_path_another_holder_has_keeps_its_binding_out(world, requester, approver):
    taken = grant(world, "billing", requester, approver)
    free = grant(world, "ledger", requester, approver)
    world.deploy_path_template = "apps/{service}"
    world.save(update_fields=["deploy_path_template"])
    repo = repository_key(world, "deploy")
    # Someone else's binding holds a path billing's new render wants.
    Claim.objects.filter(binding=free, key=path_key(repo, free.files["deploy"][0])).update(
        key=path_key(repo, "apps/billing/serviceaccount.yaml")
    )
    report = check_fleet()
    assert {c.binding.pk: c.status for c in report.checks}[taken.pk] == Status.CONFLICT
    [result] = upgrades_open(report, actor=approver, force=True)
    assert result.bindings == [free.pk]


def test_each_cluster_gets_its_own_pull_requests(world, requester, approver):
    other = ClusterFactory(name="janus-other", repo_backend="local")
    here = [grant(world, s, requester, approver) for s in ("billing", "ledger")]
    there = [grant(other, s, requester, approver) for s in ("billing", "orders")]
    for b in here + there:
        as_if_rendered_before(b)
    opened = upgrades_open(check_fleet(), actor=approver)
    assert sorted((o.cluster.name, o.repository, sorted(o.bindings)) for o in opened) == [
        ("janus-local", "deploy", sorted(b.pk for b in here)),
        ("janus-local", "infra", sorted(b.pk for b in here)),
        ("janus-other", "deploy", sorted(b.pk for b in there)),
        ("janus-other", "infra", sorted(b.pk for b in there)),
    ]
    assert len({o.upgrade.number for o in opened if o.repository == "deploy"}) == 2


def test_a_second_run_keeps_the_same_pull_request(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    first = {o.repository: o.upgrade for o in upgrades_open(check_fleet(), actor=approver)}
    second = {o.repository: o.upgrade for o in upgrades_open(check_fleet(), actor=approver)}
    assert {r: (u.pk, u.number, u.head_sha) for r, u in first.items()} == {
        r: (u.pk, u.number, u.head_sha) for r, u in second.items()
    }
    assert Upgrade.objects.count() == 2


def test_closed_unmerged_the_new_paths_are_given_back(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    world.deploy_path_template = "apps/{service}"
    world.save(update_fields=["deploy_path_template"])
    [result] = upgrades_open(check_fleet(), actor=approver)
    upgrade_update_state(upgrade_id=result.upgrade.pk, state="closed")
    keys = set(Claim.objects.filter(binding=binding).values_list("key", flat=True))
    repo = repository_key(world, "deploy")
    assert not any(k.startswith(f"{repo}:apps/") for k in keys)
    assert {path_key(repo, p) for p in binding.files["deploy"]} <= keys


def test_a_change_merged_meanwhile_is_not_overwritten_in_the_record(world, requester, approver):
    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    opened = {o.repository: o.upgrade for o in upgrades_open(check_fleet(), actor=approver)}
    change = ask_change(binding, requester)
    carried_out(change, approver)
    binding.refresh_from_db()
    recorded = dict(binding.file_hashes)
    upgrade_update_state(upgrade_id=opened["infra"].pk, state="merged")
    binding.refresh_from_db()
    assert binding.file_hashes == recorded
    entry = opened["infra"].entries.get()
    assert entry.applied is False and f"request #{change.pk}" in entry.note


@pytest.mark.django_db(transaction=True)
def test_a_merged_infra_upgrade_queues_a_verification_of_each_binding(
    settings, tmp_path, requester, approver
):
    world = local_world(settings, tmp_path)
    bindings = [grant(world, s, requester, approver) for s in ("billing", "ledger")]
    for b in bindings:
        as_if_rendered_before(b)
    with emptied_broker("portal:queued:*") as broker:
        # The grants' own verifications (binding.created) are not counted.
        for key in broker.scan_iter("portal:queued:*"):
            broker.delete(key)
        for result in upgrades_open(check_fleet(), actor=approver):
            merge_local_upgrade(result.upgrade, actor=approver)
        queued = [m for m in broker.lrange("celery", 0, -1) if b"verify_binding_task" in m]
        # One per binding, from the infra upgrade (the deploy one waits for the sweep).
        assert len(queued) == len(bindings)
        for b in bindings:
            assert enqueue_verification(b.pk) == Queued.ALREADY_QUEUED


def test_the_deploy_upgrade_waits_for_the_infra_one(world, requester, approver):
    from secrets_app.requests.states import WorkflowError

    binding = grant(world, "billing", requester, approver)
    as_if_rendered_before(binding)
    opened = {o.repository: o.upgrade for o in upgrades_open(check_fleet(), actor=approver)}
    assert "Merge this pull request first" in pull_of(opened["infra"])["body"]
    assert "Merge the infra repository's upgrade" in pull_of(opened["deploy"])["body"]
    with pytest.raises(WorkflowError, match=f"infra upgrade #{opened['infra'].pk}"):
        merge_local_upgrade(opened["deploy"], actor=approver)
    assert Upgrade.objects.get(pk=opened["deploy"].pk).state == "open"
    merge_local_upgrade(opened["infra"], actor=approver)
    assert merge_local_upgrade(opened["deploy"], actor=approver).state == "merged"
