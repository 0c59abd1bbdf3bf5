"""Fleet upgrades on GitHub (the loopback fake, through PyGithub): the
check reads one tree per repository whatever the number of bindings, the
diffs one archive per repository, an upgrade pull request costs what a
request's does, and the webhook and the poll follow it."""

from __future__ import annotations

import pytest

from secrets_app.fleet.check import Status, check_fleet
from secrets_app.fleet.diffs import binding_diffs
from secrets_app.fleet.repos import FleetRepos
from secrets_app.fleet.tracking import refresh_upgrades
from secrets_app.fleet.upgrades import upgrades_open
from secrets_app.integrations.repos import blob_id
from secrets_app.models import Binding, Upgrade
from secrets_app.requests import provisioning
from tests.fleet.fleet_support import as_if_rendered_before, grant
from tests.support.github import DEPLOY, INFRA, send_webhook

pytestmark = pytest.mark.django_db
SERVICES = ("billing", "ledger", "orders", "payments")


def merge_on_github(github, request) -> None:
    for pull in sorted(request.pull_requests.all(), key=lambda p: p.repository != "infra"):
        github.merge_pull(*pull.repo_name.split("/"), pull.number)
    provisioning.refresh_pull_requests(request)


@pytest.fixture
def fleet(github, github_cluster, requester, approver):
    """Four bindings on GitHub whose files an older portal wrote."""
    bindings = []
    for service in SERVICES:
        binding = grant(
            github_cluster,
            service,
            requester,
            approver,
            merge=lambda request: merge_on_github(github, request),
        )
        as_if_rendered_before(
            binding,
            push=lambda repository, files: github.push(
                *(INFRA if repository == "infra" else DEPLOY).split("/"), "main", files
            ),
        )
        bindings.append(binding)
    return bindings


def api_requests(github) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in github.log]


def test_the_check_reads_one_tree_per_repository(github, fleet):
    github.clear_log()
    report = check_fleet()
    assert {c.status for c in report.checks} == {Status.OUTDATED}
    assert sorted(api_requests(github)) == [
        ("GET", f"/api/v3/repos/{DEPLOY}/git/trees/main"),
        ("GET", f"/api/v3/repos/{INFRA}/git/trees/main"),
    ]


def test_the_diffs_read_one_archive_per_repository(github, fleet):
    repos = FleetRepos()
    report = check_fleet(repos=repos)
    github.clear_log()
    diffs = binding_diffs(report.differing(), repos)
    assert len(diffs) == len(SERVICES)
    for files in diffs.values():
        assert {d.status for _, d in files} == {"modified"}
        assert all(any(k == "del" for k, _ in d.lines) for _, d in files)
    tarballs = [p for m, p in api_requests(github) if "/tarball/" in p]
    assert sorted(tarballs) == [
        f"/api/v3/repos/{DEPLOY}/tarball/main",
        f"/api/v3/repos/{INFRA}/tarball/main",
    ]
    assert len(github.log) == 4  # each archive: the API request and its redirect


def test_a_truncated_tree_is_read_from_the_archive(github, fleet):
    github.truncate_trees = True
    github.clear_log()
    report = check_fleet()
    assert {c.status for c in report.checks} == {Status.OUTDATED}
    assert len([p for _, p in api_requests(github) if "/tarball/" in p]) == 2


def test_an_upgrade_pull_request_costs_what_a_request_s_does(github, fleet, approver):
    report = check_fleet()
    github.clear_log()
    opened = upgrades_open(report, actor=approver)
    assert sorted((o.repository, len(o.bindings)) for o in opened) == [
        ("deploy", len(SERVICES)),
        ("infra", len(SERVICES)),
    ]
    for full in (INFRA, DEPLOY):
        assert len(github.requests_for(*full.split("/"))) == 5
    github.clear_log()
    upgrades_open(check_fleet(), actor=approver)  # again: the same content
    for full in (INFRA, DEPLOY):
        # The tree read, and the branch state: nothing written.
        assert len(github.requests_for(*full.split("/"))) == 2


def test_the_webhook_records_the_merge(github, fleet, approver):
    opened = upgrades_open(check_fleet(), actor=approver)
    for result in opened:
        upgrade = result.upgrade
        github.merge_pull(*upgrade.repo_name.split("/"), upgrade.number)
        answer = send_webhook(upgrade, merged=True)
        assert answer.status_code == 200
        assert answer.json() == {"ok": True, "state": "merged", "upgrade": upgrade.pk}
    for binding in Binding.objects.all():
        for repository, full in (("infra", INFRA), ("deploy", DEPLOY)):
            on_main = github.branch_files(*full.split("/"), "main")
            assert binding.file_hashes[repository] == {
                p: blob_id(on_main[p]) for p in binding.files[repository]
            }
    assert {c.status for c in check_fleet().checks} == {Status.CURRENT}


def test_the_poll_records_a_merge_the_webhook_missed(github, fleet, approver):
    opened = upgrades_open(check_fleet(), actor=approver)
    for result in opened:
        github.merge_pull(*result.upgrade.repo_name.split("/"), result.upgrade.number)
    github.clear_log()
    assert refresh_upgrades() == 2
    assert len(github.log) == 2  # one read per open upgrade
    assert set(Upgrade.objects.values_list("state", flat=True)) == {"merged"}
    assert refresh_upgrades() == 0
    assert {c.status for c in check_fleet().checks} == {Status.CURRENT}
