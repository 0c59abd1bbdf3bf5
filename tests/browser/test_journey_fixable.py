"""Requests that can be fixed, in a real browser: a requester saves a draft,
edits it (a mistake is shown on its field and saves nothing), and submits
it; a rejected request is copied into a new, prefilled one and submitted;
the approval queue marks what the approver has approved and says how many
approvals each request still needs. Screenshots: test-artifacts/browser/,
prefixed ``fixable-``."""

import re

import pytest
from playwright.sync_api import expect

from secrets_app.models import AccessRequest, RequestState
from tests.browser.browser_support import log_in
from tests.factories import ClusterFactory, UserFactory, own_namespace
from tests.support.celery_worker import emptied_broker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = "arn:aws:secretsmanager:us-west-2:287796791794:secret:"
DB_ARN = PREFIX + "billing-db-password-QWYC1r"
API_ARN = PREFIX + "billing-partner-key-AbC123"
LEDGER_ARN = PREFIX + "ledger-token-XyZ789"


@pytest.fixture
def world(approver_group):
    alice = UserFactory(username="alice")
    for name in ("pat", "quinn"):
        UserFactory(username=name).groups.add(approver_group)
    # Production: two approvals. Alice's team owns the namespace she files in.
    prod = ClusterFactory(name="janus-prod", environment="prod", required_approvals=2)
    own_namespace(alice, prod, "payments")
    # Submitting records notifications, and their tasks go to Redis: no
    # worker here, so the queue is emptied after the test.
    with emptied_broker():
        yield


def fill_request(page, *, service, justification, secret):
    page.get_by_label("Cluster").select_option(label="janus-prod")
    page.get_by_label(re.compile(r"^Service\s*\*?$")).fill(service)
    page.get_by_label("Namespace").fill("payments")
    page.get_by_label("Containers").fill("app")
    page.get_by_label("Justification").fill(justification)
    page.locator("#id_secrets-0-secret").fill(secret)


def queue_row(page, service):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=service))


def test_fix_a_draft_copy_a_rejected_request_and_see_the_queue(page, live_server, world, shots):
    page.set_default_timeout(20_000)

    # Alice saves a draft.
    log_in(page, live_server, "alice")
    page.get_by_role("navigation").get_by_role("link", name="New request").click()
    fill_request(page, service="billing-api", justification="tbd", secret=DB_ARN)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text(re.compile(r"Request #\d+ saved as a draft\."))).to_be_visible()
    draft_url = page.url
    draft = AccessRequest.objects.get(service="billing-api")

    # She opens it again: every field and secret is there.
    page.get_by_role("link", name="Edit draft").click()
    expect(page.get_by_role("heading", name=f"Edit draft #{draft.pk}")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Service\s*\*?$"))).to_have_value("billing-api")
    expect(page.get_by_label("Namespace")).to_have_value("payments")
    expect(page.get_by_label("Justification")).to_have_value("tbd")
    expect(page.locator("#id_secrets-0-secret")).to_have_value(DB_ARN)
    shots(page, "fixable-draft-edit")

    # A mistake is shown on its field, and the draft stays as it was.
    page.get_by_label("Justification").fill("Reads the billing database and the partner key.")
    page.get_by_role("link", name="Add another secret").click()
    page.locator("#id_secrets-1-secret").fill(API_ARN)
    page.locator("#id_secrets-1-alias").fill("Partner Key!")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#id_secrets-1-alias_errors")).to_be_visible()
    shots(page, "fixable-draft-edit-error")
    draft.refresh_from_db()
    assert draft.justification == "tbd" and draft.secrets.count() == 1

    # Fixed, saved, then submitted from the same page.
    page.locator("#id_secrets-1-alias").fill("partner-key")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text(f"Request #{draft.pk} saved as a draft.")).to_be_visible()
    expect(page.locator(".timeline").get_by_text("edited the draft")).to_be_visible()
    expect(page.get_by_role("cell", name="partner-key", exact=False).first).to_be_visible()
    shots(page, "fixable-draft-saved")
    assert page.url == draft_url
    page.get_by_role("link", name="Edit draft").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text(f"Request #{draft.pk} submitted for approval.")).to_be_visible()
    expect(page.locator("h1 .badge", has_text="Pending approval")).to_be_visible()
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)
    draft.refresh_from_db()
    assert draft.state == RequestState.PENDING and draft.secrets.count() == 2

    # A second request, which pat rejects.
    page.get_by_role("navigation").get_by_role("link", name="New request").click()
    fill_request(page, service="ledger", justification="Reads the ledger token.", secret=LEDGER_ARN)
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Pending approval")).to_be_visible()
    rejected_url = page.url
    log_in(page, live_server, "pat")
    page.goto(rejected_url)
    page.get_by_label("Reason").fill("Say which job reads the token, and for how long.")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("h1 .badge", has_text="Rejected")).to_be_visible()

    # Alice copies it into a new, prefilled request and files it again.
    log_in(page, live_server, "alice")
    page.goto(rejected_url)
    page.get_by_role("link", name="Copy into a new request").click()
    expect(page.get_by_role("heading", name="Request secret access")).to_be_visible()
    expect(page.get_by_text(re.compile(r"A copy of request #\d+"))).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Service\s*\*?$"))).to_have_value("ledger")
    expect(page.get_by_label("Namespace")).to_have_value("payments")
    expect(page.locator("#id_secrets-0-secret")).to_have_value(LEDGER_ARN)
    shots(page, "fixable-copy-prefilled")
    page.get_by_label("Justification").fill(
        "The nightly reconciliation job reads the ledger token; until the migration ends."
    )
    page.get_by_label("Expires on").fill("2999-01-01")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("h1 .badge", has_text="Pending approval")).to_be_visible()
    assert page.url != rejected_url
    shots(page, "fixable-copy-submitted")
    copies = AccessRequest.objects.filter(service="ledger").order_by("pk")
    assert [r.state for r in copies] == [RequestState.REJECTED, RequestState.PENDING]

    # Pat approves the billing request (one of two): the queue marks it.
    log_in(page, live_server, "pat")
    page.goto(draft_url)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    billing, ledger = queue_row(page, "billing-api"), queue_row(page, "ledger")
    expect(billing).to_contain_text("1 of 2 · 1 more needed")
    expect(billing.locator(".approved-by-you")).to_have_text("You approved")
    expect(ledger).to_contain_text("0 of 2 · 2 more needed")
    expect(ledger.locator(".approved-by-you")).to_have_count(0)
    shots(page, "fixable-queue-pat")

    # Quinn sees the same counts, and no mark of pat's.
    log_in(page, live_server, "quinn")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(queue_row(page, "billing-api")).to_contain_text("1 of 2 · 1 more needed")
    expect(page.locator(".approved-by-you")).to_have_count(0)
    shots(page, "fixable-queue-quinn")
