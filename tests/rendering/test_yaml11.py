"""Every string in the rendered YAML stays a string for a YAML 1.1 reader.

PyYAML's ``safe_load`` is YAML 1.1, but leaves out ``y``/``n`` (which the
1.1 type repository counts as booleans, as Go's yaml.v2 does) and reads
``1e3`` as a string (YAML 1.2 and Go read a float). ``Yaml11Loader`` adds
both, so a value that any of these readers would retype shows up here as a
bool or a float instead of the string that went in."""

from __future__ import annotations

import re

import pytest
import yaml

from secrets_app.rendering import BindingSpec, render_binding
from secrets_app.rendering.manifests import dump_yaml
from tests.rendering.rendering_support import guide_data, load_docs


class Yaml11Loader(yaml.SafeLoader):
    """SafeLoader plus the rest of YAML 1.1's booleans and YAML 1.2's floats."""

    def construct_yaml_bool(self, node: yaml.Node) -> bool:
        value = self.construct_scalar(node)
        return value.lower() in ("y", "yes", "true", "on")


Yaml11Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN")
)
Yaml11Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
Yaml11Loader.add_constructor("tag:yaml.org,2002:bool", Yaml11Loader.construct_yaml_bool)


def read11(text: str):
    return yaml.load(text, Yaml11Loader)  # noqa: S506 (a SafeLoader: plain data only)


#: Strings some YAML reader retypes (the issue's list and their relatives).
RETYPED = [
    "y", "n", "Y", "N", "yes", "No", "ON", "off", "true", "False", "~", "null", "NULL", "",
    "0777", "0o17", "0b101", "0x1F", "1_000", "+1", "-1", "0", "1e3", "1E-3", "1.5", ".5",
    "1.", "1.2.3", ".inf", "-.Inf", ".nan", "12:30", "1:30.5", "190:20:30", "2001-12-14",
    "=", "<<",
]  # fmt: skip


def _retyped(text: str) -> bool:
    try:
        return not isinstance(read11(text), str)
    except yaml.YAMLError:  # "=" and "<<" are not even data
        return True


def test_the_reader_itself_retypes_them_when_plain():
    # The dumper quotes two more, for readers this one does not imitate:
    # YAML 1.2's 0o17 octal, and a version-like 1.2.3 (YAML 1.1's float
    # pattern allows several dots).
    assert [s for s in RETYPED if not _retyped(s)] == ["0o17", "1.2.3"]


@pytest.mark.parametrize("text", RETYPED)
def test_dumped_strings_read_back_as_the_same_strings(text):
    doc = {"key": text, "list": [text], text or "empty": "v"}
    assert read11(dump_yaml(doc)) == doc


def test_plain_names_stay_unquoted():
    # Quoting only where needed keeps the files as people write them.
    assert dump_yaml({"name": "data-access-service", "key": "rds_password"}) == (
        "name: data-access-service\nkey: rds_password\n"
    )


def _tricky_spec(value: str, name: str) -> BindingSpec:
    """``value`` where any text may go (the requester and request id, IAM
    tag values), ``name`` where a file or key name goes (alias, sync key)."""
    data = guide_data(request={"id": value, "requester": value})
    secret = data["secrets"][0]
    secret["alias"] = name
    secret["jmes"] = [{"path": "username", "alias": f"{name}.u"}]
    secret["sync"]["keys"] = [{"object": name, "key": name, "env": "DB_PASSWORD"}]
    return BindingSpec.from_dict(data)


@pytest.mark.parametrize(
    ("value", "name"),
    [(v, v) for v in ["y", "n", "Y", "N", "yes", "off", "0777", "1e3", "1_000", "0x1F"]]
    + [("12:30", "1.5"), ("1:30.5", "1.2.3"), ("=", "0"), (".inf", "1E-3")],
)
def test_rendered_manifests_read_back_with_a_yaml11_reader(value, name):
    files = render_binding(_tricky_spec(value, name)).files["deploy"]
    docs = {}
    for path, text in files.items():
        # The same values as PyYAML reads: nothing a YAML 1.1 reader retypes.
        docs[path.rsplit("/", 1)[-1]] = read11(text)
        assert docs[path.rsplit("/", 1)[-1]] == yaml.safe_load(text)
    assert docs == load_docs(files)
    sa = docs["serviceaccount.yaml"]["metadata"]["annotations"]
    assert sa["secrets-access-portal/requester"] == value
    assert sa["secrets-access-portal/request-id"] == value
    spc = docs["secretproviderclass.yaml"]["spec"]
    (obj,) = read11(spc["parameters"]["objects"])
    assert obj["objectAlias"] == name
    assert obj["jmesPath"] == [{"path": "username", "objectAlias": f"{name}.u"}]
    assert spc["secretObjects"][0]["data"] == [{"objectName": name, "key": name}]


def test_a_request_id_of_digits_is_a_string_annotation():
    docs = load_docs(render_binding(BindingSpec.from_dict(guide_data())).files["deploy"])
    annotations = docs["serviceaccount.yaml"]["metadata"]["annotations"]
    assert annotations["secrets-access-portal/request-id"] == "42"
