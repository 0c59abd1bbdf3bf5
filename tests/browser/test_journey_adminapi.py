"""In a real browser: a new user lands on the overview; the owner of a
binding that expires soon asks to extend it, another approver approves, and
the binding page shows the new date; the nav on a phone (375 px) folds
behind a Menu button and nothing is wider than the screen. Screenshots go to
test-artifacts/browser/ (prefix adminapi-)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secrets_app.models import RequestState
from tests.browser.browser_support import log_in
from tests.factories import (
    BindingFactory,
    BindingSecretFactory,
    ClusterFactory,
    UserFactory,
    own_namespace,
)
from tests.support.access_requests import make_pending

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}


@pytest.fixture
def world(approver_group):
    alice = UserFactory(username="alice")
    UserFactory(username="pat").groups.add(approver_group)
    UserFactory(username="newcomer")
    cluster = ClusterFactory(name="janus-dev")
    own_namespace(alice, cluster, "deploy")
    grant = make_pending(cluster, requester=alice, service="data-access-service")
    grant.state = RequestState.ACTIVE
    grant.save()
    soon = timezone.localdate() + datetime.timedelta(days=5)
    binding = BindingFactory(
        request=grant,
        cluster=cluster,
        owner=alice,
        service="data-access-service",
        expires_on=soon,
    )
    BindingSecretFactory(binding=binding)
    return binding


def no_horizontal_overflow(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_overview_extension_and_phone_nav(page, live_server, world, shots):
    page.set_default_timeout(20_000)
    binding = world
    later = timezone.localdate() + datetime.timedelta(days=120)

    # A new user lands on the overview, which says where to start.
    log_in(page, live_server, "newcomer")
    expect(page.get_by_role("heading", name="Hello, newcomer")).to_be_visible()
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    expect(page.get_by_role("link", name="File your first request")).to_be_visible()
    shots(page, "adminapi-overview-new-user")

    # The owner's overview lists the binding that expires soon.
    log_in(page, live_server, "alice")
    waiting = page.locator("section", has=page.get_by_role("heading", name="Waiting for you"))
    expect(waiting.get_by_text("Bindings expiring within 14 days")).to_be_visible()
    shots(page, "adminapi-overview-owner")
    waiting.get_by_role("link", name="data-access-service in janus-dev/deploy").click()

    # A past date is refused on the field; a later one is filed.
    expiry = page.locator("section", has=page.get_by_role("heading", name="Expiry"))
    expiry.get_by_label("New expiry date").fill("2001-01-01")
    expiry.get_by_label("Why is the access still needed?").fill("The nightly export still runs.")
    expiry.get_by_role("button", name="Ask to extend").click()
    expect(page.locator("#id_expires_on_errors")).to_contain_text("must be after today")
    shots(page, "adminapi-extend-refused")
    expiry = page.locator("section", has=page.get_by_role("heading", name="Expiry"))
    expiry.get_by_label("New expiry date").fill(later.isoformat())
    expiry.get_by_label("Why is the access still needed?").fill("The nightly export still runs.")
    expiry.get_by_role("button", name="Ask to extend").click()
    expect(page.get_by_role("heading", name="Extension request")).to_be_visible()
    expect(page.get_by_text("Pending approval").first).to_be_visible()
    shots(page, "adminapi-extension-requested")

    # Another approver finds it on their overview and approves it.
    log_in(page, live_server, "pat")
    decide = page.locator("section", has=page.get_by_role("heading", name="Waiting for you"))
    expect(decide.get_by_text("Requests to decide")).to_be_visible()
    shots(page, "adminapi-overview-approver")
    decide.get_by_role("link", name="data-access-service").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()
    expect(page.locator("h1 .badge", has_text="Extended")).to_be_visible()
    shots(page, "adminapi-extension-approved")

    # The binding page shows the new date.
    page.goto(f"{live_server.url}{binding.get_absolute_url()}")
    expect(page.locator("dl.facts")).to_contain_text(f"Expires{later.isoformat()}")
    shots(page, "adminapi-binding-extended")

    # On a phone the menu folds behind a button; nothing overflows.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_be_visible()
    expect(nav).to_be_hidden()
    assert no_horizontal_overflow(page)
    shots(page, "adminapi-phone-overview")
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    assert no_horizontal_overflow(page)
    shots(page, "adminapi-phone-nav-open")
    nav.get_by_role("link", name="Bindings").click()
    expect(page.get_by_role("heading", name="Bindings")).to_be_visible()
    assert no_horizontal_overflow(page)
    shots(page, "adminapi-phone-bindings")
    page.goto(f"{live_server.url}{binding.get_absolute_url()}")
    assert no_horizontal_overflow(page)
    shots(page, "adminapi-phone-binding")
