"""The request form in a real browser (issue #18, item 3): the secret picker
lists the cluster's account on focus and finds a secret by a piece of its
name; a request with four mistakes says all four after one submit, each on
its field; fixed, it is filed. AWS is moto behind the recording proxy, with
the form's lookup on. Screenshots: test-artifacts/browser/*-form-*.png."""

import pytest
from playwright.sync_api import expect

from tests.aws.aws_world import ACCOUNT, CLUSTER, REGION
from tests.browser.browser_support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MISSING = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:no-such-secret-AbCd12"
NAMES = ("billing-api", "billing-db", "dcp-db-password", "payments/stripe-key", "team/Payments/DB")


@pytest.fixture
def arns(clients):
    sm = clients("secretsmanager")
    return {name: sm.create_secret(Name=name, SecretString="x")["ARN"] for name in NAMES}


@pytest.fixture
def world(requester, moto_cluster, portal_aws, arns):
    return arns


def test_the_form_says_everything_at_once(page, live_server, world, portal_aws, shots):
    arns = world
    page.set_default_timeout(20_000)
    log_in(page, live_server, "alice")
    page.get_by_role("navigation").get_by_role("link", name="New request").click()

    page.get_by_label("Cluster").select_option(label=CLUSTER)
    page.locator("#id_service").fill("billing")
    page.locator("#id_namespace").fill("deploy")
    page.locator("#id_containers").fill("app")
    page.locator("#id_justification").fill("Billing reads its database and the partner API.")

    # The picker: the account's secrets by name as soon as the field has focus...
    secret = page.locator("#id_secrets-0-secret")
    secret.focus()
    options = page.locator("#secret-options-0 .picker-option")
    expect(options).to_have_count(len(NAMES))
    expect(options.locator(".picker-name")).to_have_text(sorted(NAMES, key=str.casefold))
    shots(page, "form-picker-account")
    # ...and those holding a piece of the name, in any case, with the ARN as detail.
    secret.press_sequentially("PAYMENTS")
    expect(options).to_have_count(2)
    expect(options.locator(".picker-name")).to_have_text(
        ["payments/stripe-key", "team/Payments/DB"]
    )
    expect(options.nth(1).locator(".picker-arn")).to_have_text(arns["team/Payments/DB"])
    shots(page, "form-picker-substring")
    options.nth(1).click()
    expect(secret).to_have_value(arns["team/Payments/DB"])
    expect(page.locator("#secret-options-0")).to_be_empty()

    # Four mistakes: an env var no shell takes, a secret that does not
    # exist, an alias twice, a JSON key path with an empty part.
    page.locator("#id_secrets-0-alias").fill("db")
    page.locator("#id_secrets-0-sync_secret_name").fill("billing-db")
    page.locator("#id_secrets-0-sync_keys").fill("password as 1DB")
    page.get_by_role("link", name="Add another secret").click()
    page.locator("#id_secrets-1-secret").fill(MISSING)
    page.locator("#id_secrets-1-alias").fill("other")
    page.get_by_role("link", name="Add another secret").click()
    page.locator("#id_secrets-2-secret").fill(arns["billing-api"])
    page.locator("#id_secrets-2-alias").fill("db")
    page.locator("#id_secrets-2-jmes").fill("a..b as partner-user")
    page.get_by_role("button", name="Submit for approval").click()

    expect(page.locator("#error-summary")).to_contain_text("4 things to fix")
    expect(page.locator("#error-summary li")).to_have_count(4)
    shots(page, "form-error-summary")
    errors = page.locator(".field-errors")
    expect(errors).to_have_count(4)
    expect(page.locator("#id_secrets-0-sync_keys_errors")).to_contain_text("1DB")
    expect(page.locator("#id_secrets-1-secret_errors")).to_contain_text("has no secret")
    expect(page.locator("#id_secrets-2-alias_errors")).to_contain_text(
        "found duplicate object alias db"
    )
    expect(page.locator("#id_secrets-2-jmes_errors")).to_have_text(
        "The key path `a..b` has an empty part (two dots with no key between them)."
    )
    expect(page.locator("body")).not_to_contain_text("Parse error")
    page.locator("#id_secrets-0-sync_keys").scroll_into_view_if_needed()
    shots(page, "form-all-errors")

    # Fixed in one go, it is filed.
    page.locator("#id_secrets-0-sync_keys").fill("password as DB_PASSWORD")
    page.locator("#id_secrets-1-secret").fill("billing")
    expect(page.locator("#secret-options-1 .picker-option")).to_have_count(2)
    page.locator("#secret-options-1 .picker-option", has_text="billing-db").click()
    page.locator("#id_secrets-2-alias").fill("partner")
    page.locator("#id_secrets-2-jmes").fill("a.b as partner-user")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Pending approval")).to_be_visible()
    shots(page, "form-filed")
    assert "secretsmanager:GetSecretValue" not in portal_aws.operations()
