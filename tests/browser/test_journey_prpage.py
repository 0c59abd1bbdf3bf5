"""Reading and merging local git pull requests in a real browser: an
approver opens a request whose two pull requests are in local git, reads
each one's diff in the portal (Terraform and YAML coloured), sees which goes
first and that the other cannot be merged yet, merges infra from its page,
and watches the state badge at the top of the request page turn Active
without a reload when the deploy pull request is merged by a colleague.
Screenshots go to test-artifacts/browser/ (prefixed prpage-)."""

import re

import pytest
from playwright.sync_api import expect

from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import PullRequest
from secrets_app.requests import provisioning
from tests.browser.browser_support import log_in
from tests.factories import ClusterFactory, UserFactory
from tests.support.access_requests import make_pending
from tests.support.celery_worker import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path, approver_group):
    settings.LOCAL_REPOS_DIR = tmp_path
    settings.PORTAL_TASK_RETRY_BASE = 0.05
    settings.PORTAL_TASK_RETRY_CAP = 0.2
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    alice = UserFactory(username="alice")
    pat = UserFactory(username="pat")
    pat.groups.add(approver_group)
    colleague = UserFactory(username="sam")
    colleague.groups.add(approver_group)
    cluster = ClusterFactory(name="janus-dev", repo_backend="local")
    request = make_pending(cluster, requester=alice)
    with running_worker():
        yield request, colleague


def test_read_the_diffs_and_merge_in_order(page, live_server, world, shots):
    request, colleague = world
    page.set_default_timeout(20_000)

    # The approver approves; the worker opens both pull requests in local git.
    log_in(page, live_server, "pat")
    page.goto(f"{live_server.url}{request.get_absolute_url()}")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()
    merge = page.get_by_role("button", name="Merge (local demo)")
    expect(merge).to_have_count(2, timeout=30_000)
    pulls = {p.repository: p for p in PullRequest.objects.filter(request=request)}

    # Which goes first, and why; the other's button is disabled with the reason.
    progress = page.locator("#progress")
    expect(progress.get_by_text("Merge the infra pull request first")).to_be_visible()
    expect(progress.locator(".badge.merge-first")).to_be_visible()
    expect(merge.first).to_be_enabled()
    expect(merge.nth(1)).to_be_disabled()
    expect(
        progress.get_by_text(re.compile(r"Merge the infra pull request #\d+ first"))
    ).to_be_visible()
    shots(page, "prpage-merge-order")

    # The deploy pull request, read in the portal: YAML coloured, its merge
    # button disabled until infra is merged.
    page.get_by_role("link", name=re.compile(rf"deploy\.git#{pulls['deploy'].number}$")).click()
    expect(page.get_by_role("heading", name="Files changed")).to_be_visible()
    expect(page.locator(".pr-diff .nt", has_text="apiVersion").first).to_be_visible()
    expect(page.get_by_role("button", name="Merge (local demo)")).to_be_disabled()
    expect(page.get_by_text("the IAM role and its policy must exist").first).to_be_visible()
    shots(page, "prpage-deploy-diff")

    # The infra pull request: Terraform coloured; merged from its page.
    page.get_by_role("link", name=re.compile(r"Infra .*infra\.git#\d+")).click()
    expect(page.get_by_role("heading", name="Description")).to_be_visible()
    expect(page.locator(".pr-diff .kr", has_text="resource").first).to_be_visible()
    expect(page.locator(".pr-file summary .badge", has_text="added").first).to_be_visible()
    shots(page, "prpage-infra-diff")
    page.get_by_role("button", name="Merge (local demo)").click()
    expect(page.get_by_text(re.compile(r"^Merged .*infra\.git#\d+\.$"))).to_be_visible()
    expect(page.get_by_role("button", name="Merge (local demo)")).to_be_enabled()
    badge = page.locator("h1 #request-state")
    expect(badge).to_have_text("Provisioning")
    shots(page, "prpage-infra-merged")

    # A colleague merges deploy (another tab): the polled panel and the
    # badge at the top follow, without a reload of this page.
    page.evaluate("window.prpageNotReloaded = true")
    provisioning.merge_local_pull_request(pulls["deploy"], actor=colleague)
    expect(badge).to_have_text("Active", timeout=15_000)
    expect(page.get_by_role("button", name="Merge (local demo)")).to_have_count(0)
    assert page.evaluate("window.prpageNotReloaded") is True
    shots(page, "prpage-active")
