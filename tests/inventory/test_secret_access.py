"""Who can read this secret: the index of secrets, the matching rules of the
access page (full ARN, partial ARN, name), portal and imported bindings,
requests in flight, revoked bindings apart, hostile input, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from secrets_app.models import Binding, BindingSecret, BindingSource, BindingState
from tests.factories import (
    AccessRequestFactory,
    BindingFactory,
    BindingSecretFactory,
    ClusterFactory,
    SecretGrantFactory,
)
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

ACCOUNT, REGION = "287796791794", "us-west-2"
PREFIX = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
FULL = PREFIX + "prod/db-AbCdEf"
PARTIAL = PREFIX + "prod/db"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def web(requester) -> Client:
    return client_for(requester)


def bind(cluster, service, written_as, *, name="prod/db", **kw) -> Binding:
    binding = BindingFactory(
        cluster=cluster,
        namespace=kw.pop("namespace", "team-a"),
        service=service,
        service_account=f"{service}-sa",
        secret_provider_class=f"{service}-secrets",
        role_arn=f"arn:aws:iam::{cluster.aws_account_id}:role/{service}",
        **kw,
    )
    BindingSecretFactory(binding=binding, arn=written_as, name=name, alias="db")
    return binding


@pytest.fixture
def world(db):
    home = ClusterFactory(name="janus-dev")  # ACCOUNT, REGION
    elsewhere = ClusterFactory(name="other-acct", aws_account_id="111122223333")
    return {
        "exact": bind(home, "exact", FULL),
        "partial": bind(home, "partial", PARTIAL, source=BindingSource.IMPORTED),
        "by-name": bind(home, "by-name", "prod/db"),
        "name-elsewhere": bind(elsewhere, "name-elsewhere", "prod/db"),
        "recreated": bind(home, "recreated", PREFIX + "prod/db-ZzZzZz"),
        "other-secret": bind(home, "other-secret", PREFIX + "prod/api-QwErTy", name="prod/api"),
        "revoked": bind(home, "revoked", FULL, state=BindingState.REVOKED),
    }


def access(web, secret):
    response = web.get(reverse("secret-access"), {"secret": secret})
    assert response.status_code == 200
    return response


def services(grants) -> set[str]:
    return {g.binding.service for g in grants}


def test_a_full_arn_finds_every_binding_that_reaches_that_secret(web, world):
    context = access(web, FULL).context
    # The exact ARN, the same name without suffix, and a plain name in the
    # cluster's own account and region; not another account, nor another suffix.
    assert services(context["live"]) == {"exact", "partial", "by-name"}
    how = {g.binding.service: g.match for g in context["live"]}
    assert how["exact"] == "exact"
    assert how["partial"] == "name in the same account and region"
    assert how["by-name"] == "name in the cluster's account and region"
    assert services(context["revoked"]) == {"revoked"}


def test_a_partial_arn_matches_the_name_in_that_account_and_region(web, world):
    live = access(web, PARTIAL).context["live"]
    assert services(live) == {"exact", "partial", "by-name", "recreated"}


def test_a_name_matches_in_every_account(web, world):
    live = access(web, "prod/db").context["live"]
    assert services(live) == {"exact", "partial", "by-name", "name-elsewhere", "recreated"}
    html = access(web, "prod/db").content.decode()
    assert "111122223333" in html  # the reader sees which account each is in


def test_the_page_shows_source_state_health_role_and_links(web, world):
    html = access(web, FULL).content.decode()
    for key in ("exact", "partial"):
        binding = world[key]
        assert binding.get_absolute_url() in html
        assert binding.role_arn in html
        assert binding.service_account in html
    assert "Imported" in html and "Portal" in html
    assert "Revoked bindings (1)" in html


def test_requests_in_flight_are_listed_apart(web, world):
    home = world["exact"].cluster
    waiting = AccessRequestFactory(cluster=home, service="waiting", state="pending")
    SecretGrantFactory(request=waiting, secret=PARTIAL, alias="db")
    provisioning = AccessRequestFactory(cluster=home, service="building", state="provisioning")
    SecretGrantFactory(request=provisioning, secret=FULL, alias="db")
    for state in ("draft", "rejected", "active"):
        done = AccessRequestFactory(cluster=home, service=f"s-{state}", state=state)
        SecretGrantFactory(request=done, secret=FULL, alias="db")
    revocation = AccessRequestFactory(cluster=home, service="undo", state="pending", kind="revoke")
    SecretGrantFactory(request=revocation, secret=FULL, alias="db")

    context = access(web, FULL).context
    assert {g.request.service for g in context["requests"]} == {"waiting", "building"}
    assert "waiting" not in services(context["live"])


@pytest.mark.parametrize(
    "hostile",
    [
        HOSTILE,
        "%",
        "_",
        "prod/%",
        PREFIX + "%",
        "'; DROP TABLE secrets_app_bindingsecret; --",
        "\\",
        "javascript:alert(1)",
        '"><img src=x onerror=alert(1)>',
        "x" * 2048,
    ],
)
def test_hostile_secret_input_matches_nothing_and_is_escaped(web, world, hostile):
    response = access(web, hostile)
    context = response.context
    assert context["live"] == [] and context["revoked"] == [] and context["requests"] == []
    html = response.content.decode()
    assert HOSTILE not in html and "<img src=x" not in html
    assert BindingSecret.objects.count() == 7


@pytest.mark.parametrize("bad", ["x" * 5000, "prod/\x00db", "\x00"])
def test_too_long_or_null_bytes_is_an_error_on_the_field(web, world, bad):
    response = access(web, bad)
    assert response.context["searched"] is False
    assert response.context["form"].errors["secret"]
    assert 'class="field-errors"' in response.content.decode()


def test_without_a_secret_the_page_asks_for_one(web, world):
    response = web.get(reverse("secret-access"))
    assert response.status_code == 200 and response.context["searched"] is False
    assert 'name="secret"' in response.content.decode()


def test_the_index_counts_live_bindings_and_searches(web, world):
    response = web.get(reverse("secret-index"))
    assert response.status_code == 200
    rows = {r["arn"]: r for r in response.context["page"]}
    assert (rows[FULL]["live"], rows[FULL]["total"]) == (1, 2)  # one revoked
    assert rows["prod/db"]["live"] == 2
    html = response.content.decode()
    assert (
        "?secret=arn%3Aaws%3Asecretsmanager%3Aus-west-2%3A287796791794%3Asecret%3Aprod%2Fdb" in html
    )

    found = web.get(reverse("secret-index"), {"q": "api"}).context["page"]
    assert [r["name"] for r in found] == ["prod/api"]
    for hostile in (HOSTILE, "%", "_", "\x00", "x" * 5000):
        response = web.get(reverse("secret-index"), {"q": hostile, "page": hostile})
        assert response.status_code == 200
        assert HOSTILE not in response.content.decode()
        assert list(response.context["page"]) == []


def test_binding_page_and_list_link_to_the_secret(web, world):
    url = reverse("secret-access") + "?secret=" + FULL.replace(":", "%3A").replace("/", "%2F")
    assert url in web.get(world["exact"].get_absolute_url()).content.decode()
    assert url in web.get(reverse("binding-list")).content.decode()


def test_pages_need_a_login(client):
    for name in ("secret-index", "secret-access"):
        response = client.get(reverse(name), {"secret": FULL})
        assert response.status_code == 302 and "login" in response["Location"]


def test_queries_do_not_grow_with_bindings(web, world, django_assert_num_queries):
    home = world["exact"].cluster

    def count(url, params):
        with CaptureQueriesContext(connection) as queries:
            assert web.get(url, params).status_code == 200
        return len(queries)

    pages = [(reverse("secret-access"), {"secret": FULL}), (reverse("secret-index"), {})]
    small = [count(url, params) for url, params in pages]
    for i in range(40):
        bind(home, f"more-{i}", FULL if i % 2 else PARTIAL, namespace=f"ns-{i}")
        request = AccessRequestFactory(cluster=home, service=f"req-{i}", state="pending")
        SecretGrantFactory(request=request, secret=FULL, alias="db")
        bind(home, f"other-{i}", PREFIX + f"s{i}-AbCdEf", name=f"s{i}")
    large = [count(url, params) for url, params in pages]
    assert large == small
    assert len(access(web, FULL).context["live"]) == 3 + 40
    with django_assert_num_queries(small[0]):
        web.get(reverse("secret-access"), {"secret": PARTIAL})
