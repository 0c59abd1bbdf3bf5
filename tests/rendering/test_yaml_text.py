"""The fast YAML writer (``rendering/yaml_text.py``) against libyaml: for
any document it writes, the bytes are libyaml's; every manifest the
renderer makes goes through it (or the speed is gone)."""

from __future__ import annotations

import io
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secrets_app.rendering import BindingSpec
from secrets_app.rendering import manifests as m
from secrets_app.rendering.names import BindingNames
from tests.rendering.rendering_support import guide_data, pod_identity_data

# Characters that change how libyaml writes a scalar: indicators, quotes,
# spaces, a tab, a line break, non-ASCII, a control character.
TRICKY = " :#-?'\"!&*|>%@`,[]{}.~=<$\\\t\n\u00e9\u200b\x07"
WORDS = [
    "y",
    "n",
    "No",
    "null",
    "~",
    "true",
    "0777",
    "1e3",
    "1_000",
    "12:30",
    ".inf",
    "",
    "-",
    "---",
]
text = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + TRICKY, max_size=24),
    st.sampled_from(WORDS),
    # Long values with spaces: libyaml folds them past 80 columns.
    st.lists(st.sampled_from(["word", "a:b", "x-y", "'q'"]), min_size=10, max_size=30).map(
        " ".join
    ),
)
block = st.lists(
    st.text(alphabet=string.ascii_letters + ": -'\"#", min_size=0, max_size=30), max_size=5
).map(lambda lines: m._Block("\n".join(lines) + "\n"))
scalar = st.one_of(text, st.integers(-(10**6), 10**6), st.booleans(), st.none(), block)
documents = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=25,
).filter(lambda doc: isinstance(doc, dict | list))


def _node(value):
    """The nodes ``manifests`` builds, with null (which the manifests of
    this version never hold) as libyaml's plain ``null``."""
    if value is None:
        return yaml.ScalarNode("tag:yaml.org,2002:null", "null")
    if isinstance(value, dict):
        return yaml.MappingNode(
            "tag:yaml.org,2002:map", [(_node(k), _node(v)) for k, v in value.items()]
        )
    if isinstance(value, list):
        return yaml.SequenceNode("tag:yaml.org,2002:seq", [_node(v) for v in value])
    return m._node(value)


def libyaml(doc) -> str:
    """What the dumper's libyaml emitter writes for ``doc``."""
    stream = io.StringIO()
    dumper = m._Dumper(stream, allow_unicode=True)
    try:
        dumper.open()
        dumper.serialize(_node(doc))
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_what_it_writes_is_what_libyaml_writes(doc):
    fast = m._FAST.dump(doc)
    if fast is not None:
        assert fast == libyaml(doc)


def test_it_writes_the_common_shapes_itself():
    docs = [
        {"a": "b", "c": {"d": [1, True, None, "x y"], "e": [{"f": "g", "h": "'q'"}]}},
        [{"objectName": "arn:aws:x", "jmesPath": [{"path": '"a-b"', "objectAlias": "y"}]}],
        {"parameters": {"objects": m._Block("- a: b\n  c: d\n"), "region": "us-west-2"}},
        {"quoted": ["y", "No", "0777", "12:30", "", "- x", "a: b", "a #b", "#c"]},
    ]
    for doc in docs:
        fast = m._FAST.dump(doc)
        assert fast is not None, doc
        assert fast == libyaml(doc)


def test_it_leaves_the_rest_to_libyaml():
    for doc in (
        {"a": "é"},
        {"a": "tab\there"},
        {"a": []},
        {"a": {}},
        {"k" * 200: "v"},
        {"a": " ".join(["word"] * 30)},
        {"a": m._Block("trailing space \n")},
        "a scalar document",
    ):
        assert m._FAST.dump(doc) is None
        assert m.dump_yaml(doc) == m._libyaml_dump(doc) == libyaml(doc)


def _specs():
    many = guide_data()
    many["workload"]["containers"] = ["app", "sidecar"]
    many["secrets"] = [
        {
            **many["secrets"][0],
            "alias": f"s-{i}",
            "jmes": [{"path": "user-name", "alias": f"u-{i}"}],
            "sync": {
                "secret_name": f"s-{i}",
                "type": "Opaque",
                "keys": [{"object": f"u-{i}", "key": "k", "env": f"E_{i}"}],
            },
        }
        for i in range(12)
    ]
    return [guide_data(), pod_identity_data(), many]


def test_every_manifest_goes_through_the_fast_writer():
    for data in _specs():
        spec = BindingSpec.from_dict(data)
        names = BindingNames.from_spec(spec)
        for doc in (
            m.service_account(spec, names),
            m.secret_provider_class(spec, names),
            m.provider_objects(spec),
            m.workload_patch(names),
            m.kustomization(names),
            m.kustomize_config(),
        ):
            fast = m._FAST.dump(doc)
            assert fast is not None, doc
            assert fast == libyaml(doc)
