"""Hostile text never changes meaning: every file parses back to the input."""

from __future__ import annotations

import dataclasses

import jmespath
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from secrets_app.rendering import BindingNames, BindingSpec, SpecInvalid, render_binding
from secrets_app.rendering.jmes import normalize_path
from secrets_app.rendering.spec import JmesEntry, RequestInfo
from secrets_app.rendering.terraform import terraform_blocks
from tests.rendering.rendering_hostile import hostile_text
from tests.rendering.rendering_support import expected_hcl, guide_data, load_docs, parse_hcl

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GUIDE = BindingSpec.from_dict(guide_data())
YAML_SPECIALS = ["yes", "no", "on", "off", "null", "true", "False", "1e3", "0x1F", "012", ".inf"]


def _rendered_docs(spec: BindingSpec) -> dict:
    return load_docs(render_binding(spec).files["deploy"])


@FAST
@given(hostile_text, st.one_of(hostile_text, st.integers(min_value=0)))
def test_request_fields_round_trip_even_without_validation(requester, request_id):
    # Built directly, so validation cannot help: the writers alone must hold.
    spec = dataclasses.replace(GUIDE, request=RequestInfo(id=request_id, requester=requester))
    rendered = render_binding(spec)
    (tf,) = rendered.files["infra"].values()
    parsed = parse_hcl(tf)
    assert parsed == expected_hcl(terraform_blocks(spec, BindingNames.from_spec(spec)))
    tags = parsed["resource"][0]["aws_iam_role"][BindingNames.from_spec(spec).tf_label]["tags"]
    assert tags["Requester"] == requester
    assert tags["PortalRequest"] == str(request_id)
    sa = load_docs(rendered.files["deploy"])["serviceaccount.yaml"]
    assert sa["metadata"]["annotations"]["secrets-access-portal/requester"] == requester
    assert sa["metadata"]["annotations"]["secrets-access-portal/request-id"] == str(request_id)


@FAST
@given(hostile_text)
def test_any_jmes_path_reaches_the_objects_string_unchanged(path):
    secret = dataclasses.replace(GUIDE.secrets[0], jmes=(JmesEntry(path=path, alias="k"),))
    spec = dataclasses.replace(GUIDE, secrets=(secret,))
    spc = _rendered_docs(spec)["secretproviderclass.yaml"]
    objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    assert objects[0]["jmesPath"] == [{"path": normalize_path(path), "objectAlias": "k"}]


@FAST
@given(hostile_text)
def test_a_plain_json_key_keeps_its_meaning(key):
    """Whatever key is typed, the rendered path selects that key, or is refused."""
    data = guide_data()
    data["secrets"][0]["jmes"] = [{"path": key, "alias": "k"}]
    try:
        spec = BindingSpec.from_dict(data)
    except SpecInvalid as exc:
        assert [p.path for p in exc.problems] == ["secrets[0].jmes[0].path"]
        return
    spc = _rendered_docs(spec)["secretproviderclass.yaml"]
    rendered_path = yaml.safe_load(spc["spec"]["parameters"]["objects"])[0]["jmesPath"][0]["path"]
    if not any(ch in key for ch in ".[]|*@(){}&!<>=,'`\"?:$"):
        assert jmespath.search(rendered_path, {key: "v"}) == "v"
    if "-" in key and key.replace("-", "").isalnum():
        assert rendered_path == f'"{key}"'


key_names = st.one_of(
    st.sampled_from([*YAML_SPECIALS, "-", "-x", "_", "a.b", "1", "0.5", "--"]),
    st.from_regex(r"\A[-._a-zA-Z0-9]{1,20}\Z"),
)
env_names = st.one_of(
    st.sampled_from(["yes", "NO", "null", "TRUE", "_"]),
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,15}\Z"),
)
aliases = st.one_of(
    st.sampled_from([*YAML_SPECIALS, "1.5", "a-b", "x.y"]),
    st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}\Z"),
)
requesters = st.one_of(
    st.sampled_from([*YAML_SPECIALS, "-x", "a: b", "@x", "/x", "é 日本", "+1", "=", "1e3"]),
    st.text(
        alphabet=st.characters(categories=["L", "N", "Zs"], include_characters="_.:/=+-@"),
        max_size=30,
    ),
)


@FAST
@given(key_names, env_names, aliases, requesters)
def test_valid_but_tricky_values_round_trip(key, env, alias, requester):
    data = guide_data(request={"id": 7, "requester": requester})
    secret = data["secrets"][0]
    secret["alias"] = alias
    secret["sync"]["keys"] = [{"object": alias, "key": key, "env": env}]
    try:
        spec = BindingSpec.from_dict(data)
    except SpecInvalid as exc:
        # Only the genuinely invalid ones: '.'/'..' keys, aliases with '..'.
        assert {p.path for p in exc.problems} <= {
            "secrets[0].sync.keys[0].key",
            "secrets[0].alias",
            "secrets[0].sync.keys[0].object",
        }
        assume(False)
    rendered = render_binding(spec)
    docs = load_docs(rendered.files["deploy"])
    spc = docs["secretproviderclass.yaml"]
    assert yaml.safe_load(spc["spec"]["parameters"]["objects"])[0]["objectAlias"] == alias
    assert spc["spec"]["secretObjects"][0]["data"] == [{"objectName": alias, "key": key}]
    (container,) = docs["deployment-patch.yaml"]["spec"]["template"]["spec"]["containers"]
    assert container["env"][0] == {
        "name": env,
        "value": None,
        "valueFrom": {
            "$patch": "replace",
            "secretKeyRef": {"name": "dcp-db-password", "key": key},
        },
    }
    assert (
        docs["serviceaccount.yaml"]["metadata"]["annotations"]["secrets-access-portal/requester"]
        == requester
    )
    (tf,) = rendered.files["infra"].values()
    assert parse_hcl(tf) == expected_hcl(terraform_blocks(spec, BindingNames.from_spec(spec)))
