"""The secret picker: names starting with what was typed, as <option>s for
the field's <datalist>, from ListSecrets in the cluster's account."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def secrets(clients):
    sm = clients("secretsmanager")
    return {
        name: sm.create_secret(Name=name, SecretString="x")["ARN"]
        for name in ("dcp-db-password", "dcp-api-token", "billing-key")
    }


def test_it_returns_matching_secrets(client, requester, moto_cluster, portal_aws, secrets):
    client.force_login(requester)
    url = reverse("aws-secret-picker")
    response = client.get(url, {"cluster": moto_cluster.pk, "q": "dcp"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{secrets["dcp-db-password"]}">dcp-db-password' in html
    assert secrets["dcp-api-token"] in html
    assert "billing-key" not in html
    # htmx sends the input under its own name; that works too.
    again = client.get(url, {"cluster": moto_cluster.pk, "secrets-3-secret": "billing"})
    assert secrets["billing-key"] in again.content.decode()
    assert portal_aws.operations() == ["secretsmanager:ListSecrets"] * 2


def test_it_needs_a_login(client, moto_cluster):
    response = client.get(reverse("aws-secret-picker"), {"cluster": moto_cluster.pk, "q": "d"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_secret_field_is_wired_to_the_picker(client, requester):
    client.force_login(requester)
    html = client.get(reverse("request-create")).content.decode()
    assert f'hx-get="{reverse("aws-secret-picker")}"' in html
    assert 'hx-trigger="keyup changed delay:300ms"' in html
    assert 'list="secret-options-0"' in html
    assert '<datalist id="secret-options-0"></datalist>' in html
