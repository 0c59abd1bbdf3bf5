"""The whole journey in a real browser: a requester files a request with two
secrets and previews it; an approver approves; the pull requests appear in
the local git repositories and are merged; the binding shows in the
inventory; the dashboard shows its health, and its diagnosis; the owner
changes it (one more secret), it is approved and merged; then revoked. A
screenshot of each step goes to test-artifacts/browser/."""

import re

import pytest
from playwright.sync_api import expect

from fakes.kube_api import FakeKubeApi
from secrets_app.integrations.localgit import init_demo_repository
from tests.browser.browser_support import log_in
from tests.factories import ClusterFactory, UserFactory, own_namespace
from tests.support.celery_worker import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DB_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r"
API_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:api-key-AbC123"
SESSION_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:session-key-XyZ789"


@pytest.fixture
def world(settings, tmp_path, approver_group, moto):
    # AWS is moto (the form's secret lookup stays off): the revocation's AWS
    # check finds the role gone there (nothing ever created it).
    settings.AWS_ENDPOINT_URL = moto
    settings.LOCAL_REPOS_DIR = tmp_path
    settings.PORTAL_TASK_RETRY_BASE = 0.05
    settings.PORTAL_TASK_RETRY_CAP = 0.2
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    alice = UserFactory(username="alice")
    UserFactory(username="pat").groups.add(approver_group)
    with FakeKubeApi() as cluster_api:
        cluster = ClusterFactory(
            name="janus-dev", repo_backend="local", kube_api_url=cluster_api.url
        )
        # Alice's team owns the namespace she files in.
        own_namespace(alice, cluster, "deploy")
        with running_worker():
            yield


def test_request_to_healthy_dashboard(page, live_server, world, shots):
    page.set_default_timeout(20_000)

    # The requester files a request with two secrets and sees the preview.
    log_in(page, live_server, "alice")
    page.get_by_role("navigation").get_by_role("link", name="New request").click()
    expect(page.get_by_role("heading", name="Request secret access")).to_be_visible()
    page.get_by_label("Cluster").select_option(label="janus-dev")
    page.get_by_label(re.compile(r"^Service\s*\*?$")).fill("data-access-service")
    page.get_by_label("Namespace").fill("deploy")
    page.get_by_label("Containers").fill("app")
    page.get_by_label("Justification").fill("Reads the RDS password and the API key.")
    page.locator("#id_secrets-0-secret").fill(DB_ARN)
    page.locator("#id_secrets-0-sync_secret_name").fill("dcp-db-password")
    page.locator("#id_secrets-0-sync_keys").fill("rds_password as DB_PASSWORD")
    page.get_by_role("link", name="Add another secret").click()
    page.locator("#id_secrets-1-secret").fill(API_ARN)
    page.get_by_role("button", name="Preview files").click()
    expect(page.get_by_role("heading", name="Files the pull requests will carry")).to_be_visible()
    expect(page.locator("summary", has_text="secretproviderclass.yaml")).to_be_visible()
    shots(page, "request-preview")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Pending approval")).to_be_visible()
    request_url = page.url
    shots(page, "request-submitted")

    # An approver approves from the queue.
    log_in(page, live_server, "pat")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    page.get_by_role("link", name="data-access-service").click()
    page.get_by_label("Comment (optional)").fill("Matches the guide.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()

    # The worker opens both pull requests; the progress panel polls for them.
    merge = page.get_by_role("button", name="Merge (local demo)")
    expect(merge).to_have_count(2, timeout=30_000)
    shots(page, "pull-requests-open")
    merge.first.click()
    page.get_by_role("button", name="Merge (local demo)").click()
    expect(page.locator(".badge", has_text="Active")).to_be_visible()
    shots(page, "request-active")

    # The binding is in the inventory.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Bindings").click()
    expect(page.get_by_role("heading", name="Bindings")).to_be_visible()
    expect(page.get_by_role("link", name="data-access-service")).to_be_visible()
    shots(page, "inventory")

    # The dashboard shows its health once the cluster is swept; nothing is
    # deployed in the fake cluster yet, so the mount fails with a diagnosis.
    nav.get_by_role("link", name="Health").click()
    page.get_by_role("link", name="janus-dev").click()
    page.get_by_role("button", name="Refresh now").click()
    for _ in range(60):
        if page.locator(".badge", has_text=re.compile("Failing|Pending")).count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(".badge", has_text=re.compile("Failing|Pending")).first).to_be_visible()
    shots(page, "health-dashboard")
    page.get_by_role("link", name="data-access-service").first.click()
    expect(page.get_by_role("heading", name="Mount health")).to_be_visible()
    expect(page.get_by_text(re.compile("ServiceAccount", re.I)).first).to_be_visible()
    expect(page.get_by_text("Fix:").first).to_be_visible()
    shots(page, "binding-diagnosis")
    assert request_url.startswith(live_server.url)
    binding_url = page.url

    # The owner asks for a change: one more secret. The preview shows what
    # the pull requests change in the files the binding has; another member
    # of the platform team approves; both are merged: the binding has all
    # of its secrets, and its history says who changed what.
    log_in(page, live_server, "alice")
    page.goto(binding_url)
    page.get_by_role("link", name="Change this binding").click()
    expect(page.get_by_role("heading", name=re.compile("^Change access of"))).to_be_visible()
    expect(page.locator("#id_secrets-1-secret")).to_have_value(API_ARN)
    page.get_by_role("link", name="Add another secret").click()
    page.locator("#id_secrets-2-secret").fill(SESSION_ARN)
    page.get_by_label("Why this change?").fill("Reads the session key too.")
    page.get_by_role("button", name="Preview changes").click()
    expect(page.get_by_role("heading", name="What the pull requests change")).to_be_visible()
    expect(page.locator(".diff-add", has_text="session-key").first).to_be_visible()
    shots(page, "change-preview")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("heading", name=re.compile("^Change request #"))).to_be_visible()
    expect(page.get_by_text("Pending approval")).to_be_visible()
    expect(page.locator("#change-diff .badge", has_text="modified").first).to_be_visible()
    change_url = page.url
    shots(page, "change-requested")
    log_in(page, live_server, "pat")
    page.goto(change_url)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()
    merge = page.get_by_role("button", name="Merge (local demo)")
    expect(merge).to_have_count(2, timeout=30_000)
    merge.first.click()
    page.get_by_role("button", name="Merge (local demo)").click()
    expect(page.locator("h1 .badge", has_text="Changed")).to_be_visible()
    page.goto(binding_url)
    secrets = page.locator("table").first
    for alias in ("dcp-db-password", "api-key", "session-key"):
        expect(secrets.get_by_text(alias, exact=True)).to_be_visible()
    expect(page.get_by_text("changed it")).to_be_visible()
    shots(page, "binding-changed")

    # The owner asks to revoke; another member of the platform team approves;
    # the removal pull requests are merged: the binding is revoking until a
    # sweep of the cluster and an AWS check find nothing left, then revoked.
    log_in(page, live_server, "alice")
    page.goto(binding_url)
    page.get_by_label("Why revoke this access?").fill("The service is retired.")
    page.get_by_role("button", name="Ask to revoke").click()
    expect(page.get_by_text("Files the pull requests will delete")).to_be_visible()
    revocation_url = page.url
    shots(page, "revocation-requested")
    log_in(page, live_server, "pat")
    page.goto(revocation_url)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()
    merge = page.get_by_role("button", name="Merge (local demo)")
    expect(merge).to_have_count(2, timeout=30_000)
    merge.first.click()
    page.get_by_role("button", name="Merge (local demo)").click()
    expect(page.locator("h1 .badge", has_text="Revoking")).to_be_visible()
    expect(page.get_by_text("waiting for the cluster / AWS").first).to_be_visible()
    shots(page, "revocation-waiting")
    page.goto(f"{live_server.url}/health/clusters/janus-dev/")
    page.get_by_role("button", name="Refresh now").click()
    page.goto(binding_url)
    for _ in range(60):
        if page.locator("h1 .badge", has_text="Revoked").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("h1 .badge", has_text="Revoked")).to_be_visible()
    page.goto(revocation_url)
    expect(page.locator("h1 .badge", has_text="Revoked")).to_be_visible()
    page.goto(binding_url)
    shots(page, "binding-revoked")
