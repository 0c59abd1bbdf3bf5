"""Dashboards and verification in a real browser (Chromium, 1280 px wide):
the trend draws one sweep as points and a short history as lines with
markers; the cluster page's namespace table fits without scrolling sideways;
the last error reads from its distinctive part with the whole text a click
away; the binding's verification is a table of checks under a summary that
counts them. Screenshots: test-artifacts/browser/*-dash-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding, ClusterSweep, VerificationResult
from secrets_app.verification.findings import WARNING, failed, passed
from tests.browser.browser_support import log_in
from tests.factories import BindingFactory, ClusterFactory, UserFactory
from tests.health_portal.health_support import load_cluster
from tests.support.kube import fake

__all__ = ["fake"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Namespace names as long as Kubernetes allows (63), beside short ones.
LONG_NAMESPACES = [
    "payments-reconciliation-batch-processing",
    "customer-identity-and-access-management-platform-production-eu1",
]
SECRET = "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-??????"


@pytest.fixture
def world(fake):
    UserFactory(username="sre")
    cluster = ClusterFactory(name="janus-dev", kube_api_url=fake.url)
    modes = ["healthy", "catalogue:2", "catalogue:3", "pending", "wrong_annotation", "degraded"]
    generated, bindings = load_cluster(fake, cluster, pods=40, bindings=6, mix=modes, seed=11)
    for i, namespace in enumerate(LONG_NAMESPACES):
        BindingFactory(cluster=cluster, namespace=namespace, service=f"ledger-{i}")
    return cluster, generated, bindings


def test_trend_namespaces_and_verification_read_at_a_glance(page, live_server, world, shots):
    cluster, generated, bindings = world
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "sre")
    cluster_url = f"{live_server.url}/health/clusters/{cluster.name}/"

    # One sweep: a point per status where a line cannot be drawn yet.
    sweep_cluster(cluster.pk)
    page.goto(cluster_url)
    trend = page.locator("svg.trend")
    expect(trend).to_be_visible()
    expect(trend.locator("circle.trend-dot")).to_have_count(4)
    assert trend.locator("polyline").count() == 0
    dot = trend.locator("circle.trend-dot-failing")
    box = dot.bounding_box()
    assert box and box["width"] >= 6 and box["height"] >= 6  # a visible point, not a speck
    shots(page, "dash-trend-one-sweep")

    # A short history: two earlier sweeps; lines, and a marker on each sample.
    now = timezone.now()
    ClusterSweep.objects.bulk_create(
        ClusterSweep(cluster=cluster, started_at=now - timedelta(minutes=m), ok=True, counts=c)
        for m, c in (
            (150, {"failing": 4, "degraded": 1, "pending": 1, "healthy": 2}),
            (75, {"failing": 3, "degraded": 1, "pending": 2, "healthy": 2}),
        )
    )
    # The chart is cached for a minute by its newest sweep: older sweeps
    # written after the fact (as here) would show after that minute.
    cache.clear()
    page.goto(cluster_url)
    expect(trend.locator("polyline")).to_have_count(4)
    assert trend.locator("circle.trend-dot").count() >= 4 * 3
    # "Now" under the chart is the namespaces table's sum.
    caption = page.locator(".trend-now").inner_text()
    rows = page.locator("table.namespace-counts tbody tr")
    failing = sum(int(rows.nth(i).locator("td").nth(1).inner_text()) for i in range(rows.count()))
    assert f"{failing} failing" in caption
    page.locator(".trend-data summary").click()
    expect(page.locator(".trend-data table")).to_be_visible()
    expect(page.locator(".trend-data th[scope=row]").last).to_have_text("now")
    shots(page, "dash-trend-short-history")

    # Two more sweeps: the binding still pending after three says what it waits for.
    sweep_cluster(cluster.pk)
    sweep_cluster(cluster.pk)
    page.goto(cluster_url)
    expect(page.locator(".pending-cell")).to_contain_text("Waiting for the first mount")

    # The namespace table fits its column at 1280 px: no sideways scrolling.
    table = page.locator("table.namespace-counts")
    expect(table.get_by_role("link", name=LONG_NAMESPACES[1])).to_be_visible()
    fits = table.evaluate(
        "t => ({table: t.scrollWidth, card: t.parentElement.clientWidth,"
        " page: document.documentElement.scrollWidth, view: document.documentElement.clientWidth})"
    )
    assert fits["table"] <= fits["card"], fits
    assert fits["page"] <= fits["view"], fits

    # Last error: the provider's words first, the kubelet's whole text on demand.
    gist = page.locator(".error-gist", has_text="Not authorized to perform sts:").first
    expect(gist).to_be_visible()
    assert not gist.inner_text().startswith("MountVolume")
    whole = gist.locator("xpath=following-sibling::details[1]")
    expect(whole.locator("pre")).to_be_hidden()
    whole.locator("summary").click()
    expect(whole.locator("pre")).to_contain_text("MountVolume.SetUp failed for volume")
    shots(page, "dash-cluster-namespaces")

    # The namespace page has its trend too.
    page.get_by_role("link", name=LONG_NAMESPACES[0]).first.click()
    expect(page.locator("svg.trend")).to_be_visible()
    expect(page.locator(".trend-now")).to_contain_text("1 failing")
    shots(page, "dash-namespace-trend")

    # The binding's verification: a summary line that counts the table's rows.
    target = next(t for t in generated.targets if generated.modes[t.id] == "catalogue:2")
    binding = Binding.objects.get(pk=bindings[target.id].pk)
    checks = [
        passed("cluster.exists", "EKS cluster janus-dev is ACTIVE"),
        passed("oidc_provider.exists", "IAM OIDC provider exists"),
        passed("role.exists", f"IAM role {binding.role_arn} exists"),
        failed(
            "trust.sub",
            "the trust policy names system:serviceaccount:team-000:someone",
            f"set the sub condition to system:serviceaccount:{binding.namespace}:"
            f"{binding.service_account}",
        ),
        passed("trust.aud", "trust names sts.amazonaws.com"),
        passed("secret.exists", f"secret {SECRET} exists", subject=SECRET),
        passed("permissions.read_secret", "may read", subject=SECRET),
        failed(
            "permissions.secret_recreation",
            "the policy names the exact ARN",
            f"use {SECRET}",
            subject=SECRET,
            severity=WARNING,
        ),
        passed("permissions.kms_decrypt", "may decrypt", subject=SECRET),
    ]
    VerificationResult.objects.create(
        binding=binding, ok=False, findings=[c.to_dict() for c in checks]
    )
    page.goto(f"{live_server.url}{binding.get_absolute_url()}")
    section = page.locator("section.verification")
    expect(section.locator(".verify-summary")).to_contain_text(
        "Problems found 9 checks: 7 pass, 1 error, 1 warning."
    )
    expect(section.locator("table.check-table tbody tr")).to_have_count(9)
    expect(section.locator("tbody .badge", has_text=re.compile("^warning$"))).to_have_count(1)
    expect(section.get_by_text("Fix: set the sub condition")).to_be_visible()  # the error, open
    expect(section.get_by_text(f"Fix: use {SECRET}")).to_be_hidden()  # the warning, folded
    section.locator("summary", has_text="Survives re-creation").click()
    expect(section.get_by_text(f"Fix: use {SECRET}")).to_be_visible()
    # The diagnosis' fix names this binding's ServiceAccount, not <sa>.
    expect(page.locator(".health-diagnosis")).to_contain_text(
        f"system:serviceaccount:{binding.namespace}:{binding.service_account}"
    )
    shots(page, "dash-binding-verification")
