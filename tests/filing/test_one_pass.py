"""Issue #18, item 3: a form that says everything at once. Every problem of
a request comes back from one submit, AWS's "no such secret" among them,
through the page and through the API alike (both file through the filing
service); a field left blank gets no error of its own because the field its
default comes from is wrong; ``default`` as namespace is a warning."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from secrets_app.models import AccessRequest
from tests.aws.aws_world import ACCOUNT, CLUSTER, REGION
from tests.conftest import DEPLOY_TEAM
from tests.factories import NamespaceFactory, TeamFactory
from tests.support.access_requests import request_form_data, secrets_form_data

pytestmark = pytest.mark.django_db

MISSING = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:no-such-secret-AbCd12"
#: The four mistakes of one request, and where each is said.
WHERE = {
    "secrets[0].sync_keys",  # env var 1DB
    "secrets[1].secret",  # no such secret in the account
    "secrets[2].alias",  # "db" again
    "secrets[2].jmes",  # a..b
}


@pytest.fixture
def arns(clients):
    sm = clients("secretsmanager")
    return [
        sm.create_secret(Name=name, SecretString="x")["ARN"]
        for name in ("billing-db", "billing-api", "billing-other")
    ]


def api_body(arns: list[str], **top) -> dict:
    body = {
        "cluster": CLUSTER,
        "service": "billing",
        "namespace": "deploy",
        "containers": ["app"],
        "justification": "Billing reads its database and the partner API.",
        "secrets": [
            {
                "secret": arns[0],
                "alias": "db",
                "sync_secret_name": "billing-db",
                "sync_keys": [{"key": "password", "env": "1DB"}],
            },
            {"secret": MISSING, "alias": "other"},
            {
                "secret": arns[1],
                "alias": "db",
                "jmes": [{"path": "a..b", "alias": "partner-user"}],
            },
        ],
    }
    body.update(top)
    return body


def page_data(cluster, arns: list[str], **top) -> dict[str, str]:
    return {
        **request_form_data(cluster, service="billing", **top),
        **secrets_form_data(
            {
                "secret": arns[0],
                "alias": "db",
                "sync_secret_name": "billing-db",
                "sync_keys": "password as 1DB",
            },
            {"secret": MISSING, "alias": "other"},
            {"secret": arns[1], "alias": "db", "jmes": "a..b as partner-user"},
        ),
    }


def page_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    found = {k: list(v) for k, v in response.context["form"].errors.items()}
    for i, form in enumerate(response.context["formset"].forms):
        found.update({f"secrets[{i}].{k}": list(v) for k, v in form.errors.items()})
    return found


def api_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    errors = response.json()
    found = {k: v for k, v in errors.items() if k != "secrets"}
    for i, secret in enumerate(errors.get("secrets", [])):
        found.update({f"secrets[{i}].{k}": v for k, v in secret.items()})
    return found


def assert_the_four_mistakes(errors: dict[str, list[str]]) -> None:
    assert set(errors) == WHERE, errors
    assert "1DB" in errors["secrets[0].sync_keys"][0]
    assert "has no secret" in errors["secrets[1].secret"][0]
    assert "ResourceNotFoundException" in errors["secrets[1].secret"][0]
    assert "duplicate object alias db" in errors["secrets[2].alias"][0]
    assert errors["secrets[2].jmes"] == [
        "The key path `a..b` has an empty part (two dots with no key between them)."
    ]


def test_the_page_says_all_four_mistakes_in_one_pass(
    client, requester, moto_cluster, portal_aws, arns
):
    client.force_login(requester)

    response = client.post(
        reverse("request-create"), {**page_data(moto_cluster, arns), "action": "submit"}
    )

    assert_the_four_mistakes(page_errors(response))
    # And all four at the top of the page, each linked to its field.
    summary = response.context["errors"]
    assert [(anchor, where) for anchor, where, _ in summary] == [
        ("id_secrets-0-sync_keys", "Secret 1 · Secret keys and env vars"),
        ("id_secrets-1-secret", "Secret 2 · Secret ARN or name"),
        ("id_secrets-2-alias", "Secret 3 · File name (alias)"),
        ("id_secrets-2-jmes", "Secret 3 · JSON keys as files"),
    ]
    html = response.content.decode()
    assert "4 things to fix</strong>, each also shown at its field" in html
    assert '<a href="#id_secrets-2-jmes">Secret 3 · JSON keys as files</a>: The key path' in html
    assert not AccessRequest.objects.exists()
    # AWS was asked about the secrets typed well, once each, values never.
    assert sorted(portal_aws.operations()) == ["secretsmanager:DescribeSecret"] * 3


def test_the_api_says_all_four_mistakes_in_one_pass(requester, moto_cluster, portal_aws, arns):
    api = APIClient()
    api.force_authenticate(requester)

    response = api.post("/api/requests/", api_body(arns), format="json")

    assert_the_four_mistakes(api_errors(response))
    assert not AccessRequest.objects.exists()


def test_a_format_error_on_the_page_does_not_hide_the_rest(
    client, requester, moto_cluster, portal_aws, arns
):
    client.force_login(requester)
    data = page_data(moto_cluster, arns)
    data["secrets-0-sync_keys"] = "password as 1DB as twice"  # not the line format

    errors = page_errors(client.post(reverse("request-create"), data))

    assert set(errors) == WHERE
    assert errors["secrets[0].sync_keys"][0].startswith("Line 1: expected")


def test_the_same_request_fixed_is_filed(client, requester, moto_cluster, portal_aws, arns):
    client.force_login(requester)
    data = page_data(moto_cluster, arns, action="submit")
    data.update(
        {
            "secrets-0-sync_keys": "password as DB_PASSWORD",
            "secrets-1-secret": arns[2],
            "secrets-2-alias": "api",
            "secrets-2-jmes": "a.b as partner-user",
        }
    )

    response = client.post(reverse("request-create"), data)

    assert response.status_code == 302, page_errors(response)
    assert AccessRequest.objects.count() == 1


# --- fields left blank -------------------------------------------------------


def test_blank_fields_get_no_error_from_the_field_they_default_from(
    requester, moto_cluster, portal_aws, arns
):
    api = APIClient()
    api.force_authenticate(requester)
    body = api_body(arns, service="Billing_Service")  # workload, ServiceAccount: from it
    # The alias comes from the missing secret's name, and the synced key's
    # file from that alias.
    body["secrets"][1] = {
        "secret": MISSING,
        "sync_secret_name": "other",
        "sync_keys": [{"key": "k"}],
    }

    errors = api_errors(api.post("/api/requests/", body, format="json"))

    assert set(errors) == {"service", *WHERE}, errors
    assert not {"workload_name", "service_account", "role_name"} & set(errors)
    assert "secrets[1].alias" not in errors and "secrets[1].sync_keys" not in errors


def test_a_blank_field_with_a_problem_of_its_own_still_gets_it(
    requester, moto_cluster, portal_aws, arns
):
    api = APIClient()
    api.force_authenticate(requester)
    body = api_body(arns)
    # Both aliases left blank: both default to "billing-db", a duplicate that
    # is nobody else's fault.
    body["secrets"] = [{"secret": arns[0]}, {"secret": arns[0]}]

    errors = api_errors(api.post("/api/requests/", body, format="json"))

    assert list(errors) == ["secrets[1].alias"]


# --- the default namespace ---------------------------------------------------


def test_the_default_namespace_is_a_warning_not_an_error(requester, moto_cluster, portal_aws, arns):
    NamespaceFactory(cluster=moto_cluster, name="default", team=TeamFactory(name=DEPLOY_TEAM))
    api = APIClient()
    api.force_authenticate(requester)
    body = api_body(arns, namespace="default")
    body["secrets"] = [{"secret": arns[0]}]

    response = api.post("/api/requests/", body, format="json")

    assert response.status_code == 201, response.content
    assert any("namespace default" in w for w in response.json()["warnings"])


def test_the_default_namespace_warning_shows_with_the_errors_on_the_page(
    client, requester, moto_cluster, portal_aws, arns
):
    NamespaceFactory(cluster=moto_cluster, name="default", team=TeamFactory(name=DEPLOY_TEAM))
    client.force_login(requester)

    response = client.post(
        reverse("request-create"), page_data(moto_cluster, arns, namespace="default")
    )

    assert set(page_errors(response)) == WHERE
    said = [str(m) for m in response.context["messages"]]
    assert any("The namespace default holds everything" in m for m in said), said
