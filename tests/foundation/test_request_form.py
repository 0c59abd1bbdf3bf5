"""Every validation rule of the request page, each with a bad value, and the
error on the field that caused it (the page's forms read what was typed, the
filing service judges it)."""

import datetime

import pytest

from secrets_app.web.forms import RequestPage
from tests.conftest import DEPLOY_TEAM
from tests.factories import AccessRequestFactory, TeamFactory, UserFactory
from tests.support.access_requests import request_form_data, secrets_form_data

pytestmark = pytest.mark.django_db

KMS = "arn:aws:kms:us-west-2:287796791794:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def checked_page(data) -> RequestPage:
    alice = UserFactory(username="alice")
    alice.groups.add(TeamFactory(name=DEPLOY_TEAM))
    page = RequestPage(data, requester=alice)
    page.check()
    return page


def request_form(the_cluster, **overrides) -> RequestPage:
    """The page with one valid secret and the request's fields changed."""
    return checked_page({**request_form_data(the_cluster, **overrides), **secrets_form_data({})})


def secrets_formset(cluster, *secrets) -> RequestPage:
    """The page with a valid request and these secrets."""
    return checked_page({**request_form_data(cluster), **secrets_form_data(*secrets)})


def test_the_guides_request_is_valid_and_takes_its_defaults(cluster):
    page = request_form(cluster)
    assert page.form.errors == {}
    assert page.checked.fields["service_account"] == "data-access-service-secrets"
    assert page.checked.fields["workload_name"] == "data-access-service"
    assert page.checked.fields["containers"] == ["app"]
    page = secrets_formset(
        cluster, {"sync_secret_name": "dcp-db-password", "sync_keys": "rds_password as DB_PASSWORD"}
    )
    assert page.formset.errors == [{}]
    grant = page.checked.secrets[0]
    assert grant["alias"] == "dcp-db-password"
    assert grant["sync_keys"] == [
        {"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}
    ]
    assert grant["any_suffix"] is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("service", "Data_Access", "DNS-1123 label"),
        ("service", "a" * 64, "at most 63"),
        ("namespace", "-deploy", "DNS-1123 label"),
        ("namespace", "kube-system", "system namespace"),
        ("service_account", "Bad Name", "DNS-1123 subdomain"),
        ("service_account", "a" * 254, "253"),
        ("workload_name", "UPPER", "DNS-1123 subdomain"),
        ("containers", "app, App", "DNS-1123 label"),
        ("containers", "app, app", "listed once"),
        ("containers", " , ", "at least one container"),
        ("mount_path", "mnt/secrets", "absolute"),
        ("mount_path", "/", "may not be '/'"),
        ("mount_path", "/mnt/../etc", "'..'"),
        ("justification", "   ", "why this service"),
        ("role_name", "a" * 65, "64"),
        ("role_name", "bad role!", "IAM role names"),
        ("expires_on", "2000-01-01", "in the future"),
        ("cluster", "999999", "Select a valid choice"),
    ],
)
def test_request_field_rules(cluster, field, value, message):
    form = request_form(cluster, **{field: value}).form
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])


def test_service_too_long_for_the_default_account_name(cluster):
    page = request_form(cluster, service="a" * 63)
    assert "service" not in page.form.errors
    # <service>-secrets would be 71 characters: fine for a subdomain (253).
    assert page.checked.fields["service_account"] == "a" * 63 + "-secrets"


def test_a_service_account_in_use_by_an_open_request_is_refused(cluster):
    existing = AccessRequestFactory(
        cluster=cluster, namespace="deploy", service_account="data-access-service-secrets"
    )
    form = request_form(cluster).form
    assert f"request #{existing.pk}" in " ".join(form.errors["service_account"])


def test_expiry_tomorrow_is_fine(cluster):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    assert "expires_on" not in request_form(cluster, expires_on=tomorrow.isoformat()).form.errors


@pytest.mark.parametrize(
    ("secret", "field", "message"),
    [
        ({"secret": "arn:aws:s3:::bucket"}, "secret", "not a Secrets Manager secret ARN"),
        (
            {"secret": "arn:aws:secretsmanager:us-west-2:2877967917:secret:db-QWYC1r"},
            "secret",
            "not a Secrets Manager secret ARN",
        ),
        ({"secret": "bad name with spaces"}, "secret", "letters, digits"),
        ({"secret": ""}, "secret", "required"),
        (
            {"secret": "arn:aws:secretsmanager:eu-west-1:287796791794:secret:db-QWYC1r"},
            "secret",
            "ARN region must match region us-west-2",
        ),
        (
            {"secret": "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-QWYC1r"},
            "secret",
            "account 111122223333",
        ),
        ({"alias": "../etc/passwd"}, "alias", "may not contain '/'"),
        ({"alias": "a/b"}, "alias", "may not contain '/'"),
        ({"alias": ".."}, "alias", "'..'"),
        ({"alias": ".hidden"}, "alias", "may not start"),
        ({"kms_key_arn": "arn:aws:kms:nope"}, "kms_key_arn", "KMS key ARN"),
        ({"jmes": "username"}, "jmes", "Line 1: expected 'PATH as FILE'"),
        ({"jmes": "username as a/b"}, "jmes", "may not contain '/'"),
        ({"jmes": "../x as user"}, "jmes", "may not contain '../'"),
        ({"sync_secret_name": "Bad_Name", "sync_keys": "k"}, "sync_secret_name", "DNS-1123"),
        ({"sync_keys": "password"}, "sync_secret_name", "Name the Kubernetes Secret"),
        ({"sync_secret_name": "db"}, "sync_keys", "at least one key"),
        ({"sync_secret_name": "db", "sync_keys": "pass word as X"}, "sync_keys", "Line 1"),
        ({"sync_secret_name": "db", "sync_keys": "k$ey"}, "sync_keys", "not a valid Secret key"),
        (
            {"sync_secret_name": "db", "sync_keys": "key as 1ENV"},
            "sync_keys",
            "environment variable",
        ),
        (
            {"sync_secret_name": "db", "sync_keys": "key as A-B"},
            "sync_keys",
            "environment variable",
        ),
        ({"sync_secret_name": "db", "sync_keys": "k as A\nk as B"}, "sync_keys", "listed once"),
        (
            {"sync_secret_name": "db", "sync_keys": "other-file -> k"},
            "sync_keys",
            "file matching objectName other-file not found",
        ),
    ],
)
def test_secret_field_rules(cluster, secret, field, message):
    formset = secrets_formset(cluster, secret).formset
    errors = formset.forms[0].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])


def test_cross_account_needs_acknowledgement_and_a_cmk(cluster):
    arn = "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-QWYC1r"
    formset = secrets_formset(cluster, {"secret": arn, "cross_account": "on"}).formset
    assert "secret" not in formset.forms[0].errors
    assert "customer-managed KMS key" in " ".join(formset.forms[0].errors["kms_key_arn"])
    # The secret's key is in the secret's account, not the cluster's.
    page = secrets_formset(cluster, {"secret": arn, "cross_account": "on", "kms_key_arn": KMS})
    assert "account 111122223333" in " ".join(page.formset.forms[0].errors["kms_key_arn"])
    own_key = KMS.replace("287796791794", "111122223333")
    page = secrets_formset(cluster, {"secret": arn, "cross_account": "on", "kms_key_arn": own_key})
    assert page.checked, page.formset.errors


def test_plain_name_and_partial_arn_get_suffix_independent_access(cluster):
    page = secrets_formset(
        cluster,
        {"secret": "prod/db/password"},
        {"secret": "arn:aws:secretsmanager:us-west-2:287796791794:secret:api"},
    )
    assert page.checked, page.formset.errors
    first, second = page.checked.secrets
    assert first["alias"] == "password" and first["any_suffix"] is True
    assert second["alias"] == "api" and second["any_suffix"] is True


def test_aliases_are_unique_across_secrets_and_json_keys(cluster):
    page = secrets_formset(
        cluster,
        {"alias": "db", "jmes": "username as db-user"},
        {"secret": "other", "alias": "db-user"},
    )
    formset = page.formset
    assert not page.checked
    assert "found duplicate object alias db-user" in " ".join(formset.forms[1].errors["alias"])


def test_env_vars_are_unique_per_container(cluster):
    page = secrets_formset(
        cluster,
        {"alias": "a", "sync_secret_name": "a", "sync_keys": "k as DB_PASSWORD"},
        {"secret": "other", "alias": "b", "sync_secret_name": "b", "sync_keys": "k as DB_PASSWORD"},
    )
    formset = page.formset
    assert not page.checked
    assert "DB_PASSWORD is already set" in " ".join(formset.forms[1].errors["sync_keys"])


def test_one_kubernetes_secret_is_synced_from_one_place(cluster):
    page = secrets_formset(
        cluster,
        {"alias": "a", "sync_secret_name": "app", "sync_keys": "k1"},
        {"secret": "other", "alias": "b", "sync_secret_name": "app", "sync_keys": "k2"},
    )
    formset = page.formset
    assert not page.checked
    assert "already syncs into app" in " ".join(formset.forms[1].errors["sync_secret_name"])


def test_a_key_may_read_another_secrets_file(cluster):
    page = secrets_formset(
        cluster,
        {"alias": "a", "jmes": "username as a-user"},
        {"secret": "other", "alias": "b", "sync_secret_name": "app", "sync_keys": "a-user -> user"},
    )
    assert page.checked, page.formset.errors


def test_at_least_one_secret(cluster):
    page = secrets_formset(cluster)
    formset = page.formset
    assert not page.checked
    assert "at least 1" in " ".join(formset.non_form_errors())
