"""Fuzzing the request page end to end: the form and its formset of secrets,
posted through the real view by a logged-in requester.

Whatever is typed, the page either re-renders (200) with errors on fields
and nothing saved, or saves one request with its secrets and redirects; the
files rendered from what was saved parse back to exactly what was typed.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from secrets_app.models import AccessRequest
from tests.fuzz.fuzz_support import (
    FUZZ,
    RequestInput,
    any_text,
    assert_parses_back,
    counts,
    parse_back,
    request_inputs,
    rolled_back,
)

pytestmark = pytest.mark.django_db

# Text fields a browser may leave out (the date is left out as blank already).
FORM_FIELDS = tuple(f for f in AccessRequest.FILED_FIELDS if f != "expires_on")
SECRET_FIELDS = ("secret", "alias", "kms_key_arn", "jmes", "sync_secret_name", "sync_keys")


def post_data(cluster_id: int, given: RequestInput) -> dict[str, str]:
    """What the page sends for this input (checkboxes: present when ticked)."""
    data = {
        "action": "submit",
        "cluster": str(cluster_id),
        "service": given.service,
        "namespace": given.namespace,
        "workload_kind": given.workload_kind,
        "workload_name": given.workload_name,
        "containers": ", ".join(given.containers),
        "service_account": given.service_account,
        "role_name": given.role_name,
        "mount_path": given.mount_path,
        "justification": given.justification,
        "secrets-TOTAL_FORMS": str(len(given.secrets)),
        "secrets-INITIAL_FORMS": "0",
        "secrets-MIN_NUM_FORMS": "1",
        "secrets-MAX_NUM_FORMS": "20",
    }
    for i, s in enumerate(given.secrets):
        p = f"secrets-{i}-"
        data |= {
            p + "secret": s.secret,
            p + "alias": s.alias,
            p + "kms_key_arn": s.kms_key_arn,
            p + "jmes": "\n".join(f"{path} as {alias}" for path, alias in s.jmes),
            p + "sync_secret_name": s.sync_secret_name,
            p + "sync_secret_type": s.sync_secret_type,
            p + "sync_keys": "\n".join(
                (f"{o} -> {k}" if o else k) + (f" as {e}" if e else "") for o, k, e in s.sync_keys
            ),
        }
        if s.any_suffix:
            data[p + "any_suffix"] = "on"
    return data


@pytest.fixture
def page(requester, cluster):
    client = Client()
    client.force_login(requester)
    return client


def field_errors(response) -> list:
    form, formset = response.context["form"], response.context["formset"]
    return [
        *form.errors.values(),
        *formset.non_form_errors(),
        *(e for f in formset.forms for e in f.errors.values()),
    ]


def submit(client: Client, data: dict[str, str]):
    """Post the page; the counts before and after say what the post wrote."""
    before = counts()
    response = client.post(reverse("request-create"), data)
    saved = AccessRequest.objects.order_by("-pk").first() if response.status_code == 302 else None
    return response, before, counts(), saved


def check(response, before, after, saved, given: RequestInput | None) -> None:
    assert response.status_code in (200, 302), response.status_code
    event("accepted" if response.status_code == 302 else "refused")
    if response.status_code == 200:
        assert field_errors(response), "re-rendered without saying what is wrong"
        assert after == before, "a refused request wrote rows"
        return
    assert response["Location"] == saved.get_absolute_url()
    n_secrets = saved.secrets.count()
    assert after[:2] == (before[0] + 1, before[1] + n_secrets)
    if given is not None:
        assert n_secrets == len(given.secrets)
        assert_parses_back(saved, given)


@FUZZ
@given(given=request_inputs())
def test_the_page_refuses_with_field_errors_or_saves_what_parses_back(page, cluster, given):
    with rolled_back():
        check(*submit(page, post_data(cluster.pk, given)), given)


@FUZZ
@given(
    given=request_inputs(),
    missing=st.sets(st.sampled_from(FORM_FIELDS + tuple(f"secrets-0-{f}" for f in SECRET_FIELDS))),
    management=st.sampled_from(["", "0", "-1", "21", "x", "2", None]),
    cluster_value=st.one_of(st.none(), any_text, st.sampled_from(["0", "-1", "1.5", "99999"])),
    expires_on=st.one_of(
        st.none(), any_text, st.sampled_from(["2999-01-01", "2000-01-01", "0000-00-00"])
    ),
)
def test_missing_fields_and_a_broken_formset_never_break_the_page(
    page, cluster, given, missing, management, cluster_value, expires_on
):
    data = {k: v for k, v in post_data(cluster.pk, given).items() if k not in missing}
    if management is not None:
        data["secrets-TOTAL_FORMS"] = management
    if cluster_value is not None:
        data["cluster"] = cluster_value
    if expires_on is not None:
        data["expires_on"] = expires_on
    # Whatever was dropped, the outcome is a page with errors or a saved
    # request consistent with its own files (the input is no longer the
    # whole story, so the parse-back compares with what was saved).
    with rolled_back():
        response, before, after, saved = submit(page, data)
        check(response, before, after, saved, None)
        if saved is not None:
            assert parse_back(saved)["sa_name"] == saved.service_account
