"""Fuzzing POST /api/requests/ (token auth, as automation calls it).

Any body is either refused with 400 and errors keyed like the input, with
nothing saved, or files one request whose rendered files parse back to
exactly the JSON that was sent. Never a 500, never half a request.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from secrets_app.models import AccessRequest, SecretGrant
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

URL = "/api/requests/"
# What the API takes: the filed fields, plus its own "submit" and the list of
# secrets, each with the filed fields and the cross-account acknowledgement.
TOP_FIELDS = (*AccessRequest.FILED_FIELDS, "submit", "secrets")
SECRET_FIELDS = (*SecretGrant.FILED_FIELDS, "cross_account")


def body_for(cluster_name: str, given: RequestInput) -> dict[str, Any]:
    secrets = []
    for s in given.secrets:
        item: dict[str, Any] = {
            "secret": s.secret,
            "alias": s.alias,
            "any_suffix": s.any_suffix,
            "kms_key_arn": s.kms_key_arn,
            "jmes": [{"path": p, "alias": a} for p, a in s.jmes],
            "sync_secret_name": s.sync_secret_name,
            "sync_keys": [
                {"key": k, **({"object": o} if o else {}), **({"env": e} if e else {})}
                for o, k, e in s.sync_keys
            ],
        }
        if s.sync_secret_type:
            item["sync_secret_type"] = s.sync_secret_type
        secrets.append(item)
    return {
        "cluster": cluster_name,
        "service": given.service,
        "namespace": given.namespace,
        "workload_kind": given.workload_kind,
        "workload_name": given.workload_name,
        "containers": list(given.containers),
        "service_account": given.service_account,
        "role_name": given.role_name,
        "mount_path": given.mount_path,
        "justification": given.justification,
        "secrets": secrets,
    }


@pytest.fixture
def api(requester, cluster):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=requester)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(api: APIClient, body: Any):
    before = counts()
    response = api.post(URL, body, format="json")
    assert response.status_code in (201, 400), (response.status_code, response.content[:500])
    after = counts()
    event("accepted" if response.status_code == 201 else "refused")
    if response.status_code == 400:
        errors = response.json()
        assert errors and isinstance(errors, dict), errors
        assert set(errors) <= {*TOP_FIELDS, "non_field_errors"} | (
            set(body) if isinstance(body, dict) else set()
        ), errors
        assert after == before, "a refused request wrote rows"
        return None
    saved = AccessRequest.objects.get(pk=response.json()["id"])
    assert after[:2] == (before[0] + 1, before[1] + saved.secrets.count())
    return saved


def _stripped(value: Any) -> Any:
    # DRF's CharField trims surrounding blanks, like the form's fields.
    return value.strip() if isinstance(value, str) else value


@FUZZ
@given(given=request_inputs())
def test_the_api_refuses_with_field_errors_or_files_what_parses_back(api, cluster, given):
    with rolled_back():
        saved = post(api, body_for(cluster.name, given))
        if saved is not None:
            assert saved.secrets.count() == len(given.secrets)
            # Line tokens reach the form trimmed by DRF: compare like for like.
            for s in given.secrets:
                s.jmes = [(_stripped(p), _stripped(a)) for p, a in s.jmes]
                s.sync_keys = [tuple(_stripped(x) for x in k) for k in s.sync_keys]
            given.containers = [_stripped(c) for c in given.containers]
            assert_parses_back(saved, given)


json_junk = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        any_text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mangled_bodies(draw) -> tuple[Any, bool]:
    """A valid body with fields dropped, of the wrong type, or unknown; or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_junk), False
    body = body_for("janus-dev", draw(request_inputs(max_bad=0)))
    # The first secret's fields first: the request's own may replace "secrets".
    for where, fields in ((body["secrets"][0], SECRET_FIELDS), (body, TOP_FIELDS)):
        for _ in range(draw(st.integers(0, 2))):
            field = draw(st.sampled_from((*fields, "bogus")))
            if draw(st.booleans()):
                where.pop(field, None)
            else:
                where[field] = draw(json_junk)
    return body, True


@FUZZ
@given(case=mangled_bodies())
def test_wrong_types_missing_and_unknown_fields_are_400_with_field_errors(api, cluster, case):
    body, _ = case
    with rolled_back():
        saved = post(api, copy.deepcopy(body))
        if saved is not None:
            # Still accepted (e.g. a dropped optional field, a string that
            # happens to be valid): the files agree with what was saved.
            got = parse_back(saved)
            assert got["sa_name"] == saved.service_account
            assert [o["objectName"] for o in got["objects"]] == [
                g.secret for g in saved.secrets.order_by("position")
            ]
