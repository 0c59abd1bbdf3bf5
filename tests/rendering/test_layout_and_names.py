"""Repository layout (no escape, whatever the input) and derived names."""

from __future__ import annotations

import dataclasses
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secrets_app.rendering import BindingNames, BindingSpec, SpecInvalid, render_binding
from secrets_app.rendering.layout import UnsafePath, expand, safe_relative
from secrets_app.rendering.names import default_role_name, terraform_label
from secrets_app.rendering.spec import Layout
from tests.rendering.rendering_support import guide_data


def layout_problems(**layout: str) -> dict[str, str]:
    data = guide_data()
    data["cluster"]["layout"] = layout
    with pytest.raises(SpecInvalid) as info:
        BindingSpec.from_dict(data)
    return {p.path: p.message for p in info.value.problems}


@pytest.mark.parametrize(
    "template",
    [
        "../elsewhere",
        "clusters/../../x",
        "/etc/cron.d",
        "~/x",
        "a\\..\\..\\b",
        "{cluster}/{secret}",
        "{cluster.__class__}",
        "{0}",
        "{cluster!r}",
        "{cluster:>99}",
        "{cluster",
        "a}b",
        ".git/hooks",
        "a/.GIT",
        "a\nb",
        "",
    ],
)
def test_escaping_layouts_are_rejected(template):
    assert "cluster.layout.deploy" in layout_problems(deploy=template)
    assert "cluster.layout.infra" in layout_problems(infra=template)


def test_custom_layout_is_used():
    data = guide_data()
    data["cluster"]["layout"] = {"deploy": "apps/{service}", "infra": "terraform/{region}/iam"}
    rendered = render_binding(BindingSpec.from_dict(data))
    assert set(rendered.files["deploy"]) == {
        f"apps/data-access-service/{n}"
        for n in (
            "serviceaccount.yaml",
            "secretproviderclass.yaml",
            "deployment-patch.yaml",
            "kustomizeconfig.yaml",
            "kustomization.yaml",
        )
    }
    assert list(rendered.files["infra"]) == [
        "terraform/us-west-2/iam/data-access-service-secrets.tf"
    ]


def test_final_paths_are_checked_even_if_the_spec_was_not():
    spec = BindingSpec.from_dict(guide_data())
    bad = dataclasses.replace(spec, namespace="..", service="..")
    with pytest.raises(UnsafePath):
        render_binding(
            dataclasses.replace(bad, cluster=dataclasses.replace(spec.cluster, name=".."))
        )
    evil_layout = dataclasses.replace(spec.cluster, layout=Layout(deploy="../../x"))
    with pytest.raises(UnsafePath):
        render_binding(dataclasses.replace(spec, cluster=evil_layout))


@given(st.text(), st.text())
def test_expand_never_leaves_the_repository(template, value):
    values = dict.fromkeys(("cluster", "namespace", "service", "account", "region"), value)
    try:
        path = expand(template, values, "f.yaml")
    except UnsafePath:
        return
    assert not path.startswith("/")
    assert posixpath.normpath(path) == path
    assert ".." not in path.split("/")
    assert ".git" not in path.lower().split("/")


@pytest.mark.parametrize("path", ["", "/a", "a/../../b", "..", ".", "a\\b", "a/.git/x", "a\x00"])
def test_safe_relative_rejects(path):
    with pytest.raises(UnsafePath):
        safe_relative(path)


def test_default_names_follow_the_guide():
    data = guide_data(service_account=None, role_name=None)
    names = BindingNames.from_spec(BindingSpec.from_dict(data))
    assert names.service_account == "data-access-service-secrets"
    assert names.secret_provider_class == "data-access-service-secrets"
    assert names.role_name == "janus-dev_deploy_data-access-service"
    assert names.role_arn == "arn:aws:iam::287796791794:role/janus-dev_deploy_data-access-service"
    assert names.policy_name == "janus-dev_deploy_data-access-service-secrets-read"
    assert names.volume_name == "secrets-store-inline"
    assert [(k.secret_name, k.key, k.env) for k in names.env_vars] == [
        ("dcp-db-password", "rds_password", "DB_PASSWORD")
    ]


def test_explicit_role_name_wins():
    names = BindingNames.from_spec(BindingSpec.from_dict(guide_data()))
    assert names.role_name == "data-access-service-secrets"
    assert names.policy_arn.endswith(":policy/data-access-service-secrets-secrets-read")


def test_long_role_names_are_shortened_with_a_stable_hash():
    long = default_role_name("c" * 100, "n" * 63, "s" * 55)
    assert len(long) == 64
    assert long == default_role_name("c" * 100, "n" * 63, "s" * 55)
    assert long != default_role_name("c" * 100, "n" * 63, "s" * 54 + "t")
    assert long[-9] == "-"
    assert all(ch in "0123456789abcdef" for ch in long[-8:])


def test_role_names_differ_across_clusters_and_namespaces():
    names = {
        default_role_name(c, n, s)
        for c, n, s in [
            ("a-b", "c", "d"),
            ("a", "b-c", "d"),
            ("a", "b", "c-d"),
            ("a_b", "c", "d"),
            ("prod", "deploy", "svc"),
            ("dev", "deploy", "svc"),
        ]
    }
    assert len(names) == 6


def test_policy_name_fits_for_the_longest_role():
    data = guide_data(role_name="r" * 64)
    names = BindingNames.from_spec(BindingSpec.from_dict(data))
    assert len(names.policy_name) <= 128


def test_terraform_labels_are_identifiers_and_distinct():
    assert terraform_label("a.b") != terraform_label("a_b")
    assert terraform_label("role-1") == "secrets_role-1"
    for name in ("a.b", "x@y", "1role", "a+b=c,d"):
        label = terraform_label(name)
        assert label[0].isalpha()
        assert all(ch.isalnum() or ch in "_-" for ch in label)


def test_pod_identity_service_account_has_no_role_annotation():
    from tests.rendering.rendering_support import load_docs, pod_identity_data

    rendered = render_binding(BindingSpec.from_dict(pod_identity_data()))
    docs = load_docs(rendered.files["deploy"])
    annotations = docs["serviceaccount.yaml"]["metadata"].get("annotations", {})
    assert "eks.amazonaws.com/role-arn" not in annotations
    params = docs["secretproviderclass.yaml"]["spec"]["parameters"]
    assert params["usePodIdentity"] == "true"
    (tf,) = rendered.files["infra"].values()
    assert 'resource "aws_eks_pod_identity_association"' in tf


def test_the_class_takes_the_service_accounts_name():
    names = BindingNames.from_spec(BindingSpec.from_dict(guide_data(service_account="reader")))
    assert names.service_account == names.secret_provider_class == "reader"
