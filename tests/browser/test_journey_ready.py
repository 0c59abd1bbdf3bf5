"""Cluster readiness in a real browser (Chromium, 1280 px wide): the health
page of a cluster swept from the fake API lists what the cluster runs for
bindings to work, each failing item with its cause and fix, and the request
form's preview warns before filing there. Screenshots:
test-artifacts/browser/ready-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from secrets_app.health.service import sweep_cluster
from tests.factories import ClusterFactory, NamespaceFactory, TeamFactory, UserFactory
from tests.health_portal.health_support import load_cluster
from tests.support.kube import fake

__all__ = ["fake"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(fake):
    user = UserFactory(username="alice")
    team = TeamFactory(name="team-deploy")
    user.groups.add(team)
    cluster = ClusterFactory(name="janus-dev", kube_api_url=fake.url)
    NamespaceFactory(cluster=cluster, name="deploy", team=team)
    # Sync RBAC and the CSIDriver token request missing, rotation off.
    load_cluster(
        fake,
        cluster,
        pods=30,
        bindings=4,
        mix=["healthy"],
        seed=3,
        sync_fraction=1.0,
        readiness=("no_sync_rbac", "no_token_request", "no_rotation"),
    )
    assert sweep_cluster(cluster.pk).ok
    return cluster


def log_in(page, live_server, username: str = "alice") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_checklist_shows_cause_and_fix_and_the_form_warns(page, live_server, world, shots):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.goto(f"{live_server.url}/health/clusters/{world.name}/")
    checklist = page.locator("section.readiness")
    expect(checklist).to_be_visible()
    expect(checklist.get_by_role("heading", name="Cluster readiness")).to_contain_text("2 to fix")
    expect(checklist.locator("li.check")).to_have_count(8)
    failing = checklist.locator("li.check-failing")
    expect(failing).to_have_count(2)
    sync = checklist.locator("li[data-code=sync]")
    expect(sync).to_contain_text("Secret sync: off, and bindings sync Secrets")
    expect(sync.locator("dd").first).to_contain_text("secretprovidersyncing-role")
    expect(sync.locator("dd").last).to_contain_text("syncSecret.enabled=true")
    token = checklist.locator("li[data-code=csidriver-token]")
    expect(token.locator("dd").last).to_contain_text("tokenRequests")
    # Rotation off is said, not counted: pods work, they keep old versions.
    rotation = checklist.locator("li[data-code=rotation]")
    expect(rotation).to_have_class("check check-ok")
    expect(rotation).to_contain_text("Secret rotation: disabled (informational)")
    checklist.scroll_into_view_if_needed()
    shots(page, "ready-cluster-checklist")
    box = checklist.bounding_box()
    assert box and box["width"] <= 1280  # no sideways scrolling

    # The request form warns before filing on this cluster.
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Cluster").select_option(label=world.name)
    page.get_by_label(re.compile(r"^Service\s*\*?$")).fill("data-access-service")
    page.get_by_label("Namespace").fill("deploy")
    page.get_by_label("Containers").fill("app")
    page.get_by_label("Justification").fill("Reads the RDS password.")
    page.locator("#id_secrets-0-secret").fill(
        "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r"
    )
    page.locator("#id_secrets-0-sync_secret_name").fill("dcp-db-password")
    page.locator("#id_secrets-0-sync_keys").fill("rds_password as DB_PASSWORD")
    page.get_by_role("button", name="Preview files").click()
    expect(page.get_by_role("heading", name="Files the pull requests will carry")).to_be_visible()
    warning = page.get_by_text("has no CSIDriver token request for sts.amazonaws.com")
    expect(warning).to_be_visible()
    expect(page.get_by_text("cannot sync Secrets (the driver has no sync RBAC)")).to_be_visible()
    warning.scroll_into_view_if_needed()
    shots(page, "ready-form-warning")
