"""The secret picker: the secrets of the cluster's account whose name holds
what was typed (anywhere, any case), or the first ones by name when nothing
was; each shown by name with its ARN as detail, a button that puts the ARN
into the field. ListSecrets against moto, cached per account."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from secrets_app.aws_portal import picker
from tests.aws.aws_fakes import json_error

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}

pytestmark = pytest.mark.django_db

NAMES = ("dcp-db-password", "dcp-api-token", "billing-key", "team/Payments/DB-creds")


@pytest.fixture
def secrets(clients):
    sm = clients("secretsmanager")
    return {name: sm.create_secret(Name=name, SecretString="x")["ARN"] for name in NAMES}


@pytest.fixture
def user_client(client, requester):
    client.force_login(requester)
    return client


def picked_names(response) -> list[str]:
    return re.findall(r'<span class="picker-name">([^<]*)</span>', response.content.decode())


def test_a_substring_matches_anywhere_in_the_name_in_any_case(
    user_client, moto_cluster, portal_aws, secrets
):
    url = reverse("aws-secret-picker")

    middle = user_client.get(url, {"cluster": moto_cluster.pk, "q": "db"})
    upper = user_client.get(url, {"cluster": moto_cluster.pk, "q": "PAYMENTS"})
    # htmx sends the input under its own name; that works too.
    own_name = user_client.get(url, {"cluster": moto_cluster.pk, "secrets-3-secret": "key"})

    # Names starting with the text first, then the others, each by name.
    assert picked_names(middle) == ["dcp-db-password", "team/Payments/DB-creds"]
    assert picked_names(upper) == ["team/Payments/DB-creds"]
    assert picked_names(own_name) == ["billing-key"]
    # One ListSecrets for the account, then its list from the cache.
    assert portal_aws.operations() == ["secretsmanager:ListSecrets"]


def test_an_empty_query_lists_the_accounts_secrets_by_name(
    user_client, moto_cluster, portal_aws, secrets
):
    response = user_client.get(reverse("aws-secret-picker"), {"cluster": moto_cluster.pk})

    assert picked_names(response) == sorted(NAMES, key=str.casefold)


def test_the_first_ones_only_and_how_many_more(moto_cluster, portal_aws, secrets):
    found = picker.pick_secrets(moto_cluster, "", limit=2)

    assert [s.name for s in found.secrets] == ["billing-key", "dcp-api-token"]
    assert found.more == 2


def test_names_are_shown_with_the_arn_as_detail_and_the_arn_is_picked(
    user_client, moto_cluster, portal_aws, secrets
):
    html = user_client.get(
        reverse("aws-secret-picker"), {"cluster": moto_cluster.pk, "q": "api"}
    ).content.decode()

    arn = secrets["dcp-api-token"]
    assert (
        f'<button type="button" class="picker-option" data-pick="{arn}">'
        f'<span class="picker-name">dcp-api-token</span> <span class="picker-arn">{arn}</span>'
    ) in html
    assert "Secrets whose name holds “api” in account 123456789012 (us-west-2)" in html


def test_a_pasted_arn_finds_its_secret(user_client, moto_cluster, portal_aws, secrets):
    arn = secrets["billing-key"]
    response = user_client.get(reverse("aws-secret-picker"), {"cluster": moto_cluster.pk, "q": arn})
    assert picked_names(response) == ["billing-key"]


def test_nothing_found_and_no_cluster_say_so(user_client, moto_cluster, portal_aws, secrets):
    url = reverse("aws-secret-picker")
    none = user_client.get(url, {"cluster": moto_cluster.pk, "q": "zzz"}).content.decode()
    no_cluster = user_client.get(url, {"q": "dcp"}).content.decode()

    assert "No secret name in account 123456789012 (us-west-2) holds “zzz”." in none
    assert "Choose a cluster to list the secrets of its account." in no_cluster


def test_an_account_with_more_secrets_than_are_listed_is_searched_by_aws_too(
    moto_cluster, portal_aws, clients
):
    sm = clients("secretsmanager")
    for name in ("a-1", "a-2", "a-3", "zeta-late"):
        sm.create_secret(Name=name, SecretString="x")

    # Only the first 2 secrets are listed; "zeta" is found by AWS's own search.
    found = picker.pick_secrets(moto_cluster, "zeta", listed_at_most=2)

    assert [s.name for s in found.secrets] == ["zeta-late"]
    assert portal_aws.operations() == ["secretsmanager:ListSecrets"] * 2


def test_aws_failing_is_said(user_client, moto_cluster, portal_aws):
    portal_aws.inject(
        lambda rec: rec.operation == "secretsmanager:ListSecrets",
        times=10,
        status=400,
        body=json_error("AccessDeniedException", "not allowed"),
        headers=JSON_HEADERS,
    )
    html = user_client.get(
        reverse("aws-secret-picker"), {"cluster": moto_cluster.pk, "q": "dcp"}
    ).content.decode()
    assert "AWS lookup failed" in html


def test_it_needs_a_login(client, moto_cluster):
    response = client.get(reverse("aws-secret-picker"), {"cluster": moto_cluster.pk, "q": "d"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_secret_field_is_wired_to_the_picker(client, requester):
    client.force_login(requester)
    html = client.get(reverse("request-create")).content.decode()
    assert f'hx-get="{reverse("aws-secret-picker")}"' in html
    assert 'hx-trigger="focus, input changed delay:300ms"' in html
    assert 'aria-controls="secret-options-0"' in html
    assert '<div class="picker" id="secret-options-0" aria-live="polite"></div>' in html
    assert "portal/picker.js" in html
