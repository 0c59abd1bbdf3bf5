"""An access review in a real browser: a member of team-deploy opens the
review from the navigation, sees only her team's bindings with their health,
last mount and unused flag, confirms one binding and revokes another (a
revocation request waits for approval), and the team's progress says so.
Screenshots: test-artifacts/browser/, prefixed ``review-``."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secrets_app.models import AccessRequest, RequestKind, ReviewDecision
from secrets_app.reviews.opening import open_access_review
from tests.browser.browser_support import log_in
from tests.factories import (
    BindingFactory,
    BindingSecretFactory,
    ClusterFactory,
    NamespaceFactory,
    TeamFactory,
    UserFactory,
)
from tests.support.celery_worker import emptied_broker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = "arn:aws:secretsmanager:us-west-2:287796791794:secret:"


@pytest.fixture
def review():
    cluster = ClusterFactory(name="janus-prod", environment="prod")
    deploy, web = TeamFactory(name="team-deploy"), TeamFactory(name="team-web")
    NamespaceFactory(cluster=cluster, name="payments", team=deploy)
    NamespaceFactory(cluster=cluster, name="shop", team=web)
    UserFactory(username="alice").groups.add(deploy)
    long_ago = timezone.now() - datetime.timedelta(days=45)
    for ns, service, mounted in (
        ("payments", "billing", timezone.now()),
        ("payments", "ledger", long_ago),
        ("shop", "cart", timezone.now()),
    ):
        b = BindingFactory(
            cluster=cluster,
            namespace=ns,
            service=service,
            last_mounted_at=mounted,
            health_status="healthy",
            health_checked_at=timezone.now(),
        )
        BindingSecretFactory(
            binding=b,
            name=f"{service}-db",
            arn=f"{PREFIX}{service}-db-AbC123",
            alias=f"{service}-db",
        )
    # The revocation records notifications whose tasks go to Redis: no
    # worker here, so the queue is emptied after the test.
    with emptied_broker():
        yield open_access_review()


def test_a_team_member_confirms_one_binding_and_revokes_another(page, live_server, review, shots):
    page.set_default_timeout(20_000)
    log_in(page, live_server, "alice")
    page.get_by_role("navigation").get_by_role("link", name="Reviews").click()
    expect(page.get_by_role("heading", name="Access reviews")).to_be_visible()
    shots(page, "review-list")
    page.get_by_role("link", name=f"#{review.pk}", exact=True).click()

    # Only her team's bindings to answer, with last mount and the unused flag.
    team = page.get_by_role("region", name="team-deploy")
    expect(team.get_by_role("row")).to_have_count(3)  # header + 2
    expect(page.get_by_role("region", name="team-web")).to_have_count(0)
    expect(team.get_by_text("unused for 45 days")).to_be_visible()
    shots(page, "review-to-confirm")

    team.get_by_role("button", name="Confirm billing-secrets").click()
    expect(
        page.get_by_text("Confirmed: janus-prod/payments/billing-secrets keeps its access.")
    ).to_be_visible()
    page.get_by_role("region", name="team-deploy").get_by_role(
        "button", name="Revoke ledger-secrets"
    ).click()
    expect(
        page.get_by_text(re.compile(r"Revocation request #\d+ for .*ledger-secrets"))
    ).to_be_visible()

    team = page.get_by_role("region", name="team-deploy")
    expect(team.get_by_role("button")).to_have_count(0)
    expect(
        team.get_by_role("row", name=re.compile(r"billing-secrets.*Confirmed by alice"))
    ).to_be_visible()
    expect(
        team.get_by_role("row", name=re.compile(r"ledger-secrets.*Revoked by the team by alice"))
    ).to_be_visible()
    progress = page.get_by_role("region", name="Progress by team")
    expect(progress.get_by_role("row").filter(has_text="team-deploy")).to_contain_text("2 / 2")
    expect(progress.get_by_role("row").filter(has_text="team-web")).to_contain_text("0 / 1")
    shots(page, "review-answered")

    items = {i.binding.service: i for i in review.items.select_related("binding")}
    assert items["billing"].decision == ReviewDecision.CONFIRMED
    assert items["ledger"].decision == ReviewDecision.REVOKED
    assert items["cart"].decision == ReviewDecision.PENDING
    asked = AccessRequest.objects.get(kind=RequestKind.REVOKE)
    assert asked.revokes_id == items["ledger"].binding_id and asked.requester.username == "alice"

    # The revocation waits for the platform team like any other.
    team.get_by_role("link", name=f"revocation #{asked.pk}").click()
    expect(page.get_by_role("heading", name=re.compile(f"#{asked.pk}"))).to_be_visible()
    expect(page.get_by_text('answered "revoke" in')).to_be_visible()
    shots(page, "review-revocation")
