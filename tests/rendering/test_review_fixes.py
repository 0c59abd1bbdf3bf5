"""Fixes from the review with real tools (issue 16): a partial ARN whose name
ends like a suffix, the Pod Identity trust scoped to one ServiceAccount,
``render_binding`` printing the spec's warnings."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from secrets_app.rendering import BindingSpec, permissions_policy, trust_policy
from secrets_app.rendering.name_rules import parse_secret_ref
from tests.rendering.rendering_support import guide_data, pod_identity_data

PREFIX = "arn:aws:secretsmanager:us-west-2:287796791794:secret:"


def _spec_with_secret(arn: str, **fields) -> BindingSpec:
    data = guide_data()
    data["secrets"][0].update(arn=arn, **fields)
    return BindingSpec.from_dict(data)


def _granted(spec: BindingSpec) -> list[str]:
    (statement,) = permissions_policy(spec)["Statement"]
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else resource


@pytest.mark.parametrize("tail", ["master", "prod01", "a1b2c3", "000000"])
def test_a_suffix_that_may_be_part_of_the_name_grants_both_readings(tail):
    arn = f"{PREFIX}billing/db-{tail}"
    spec = _spec_with_secret(arn)
    # billing/db with the suffix, or billing/db-<tail> with any suffix.
    assert _granted(spec) == [arn, f"{PREFIX}billing/db-{tail}-??????"]
    (warning,) = spec.warnings
    assert warning.path == "secrets[0].arn"
    assert f"billing/db-{tail}-??????" in warning.message and "lookup" in warning.message


def test_a_suffix_with_an_upper_case_letter_is_taken_as_the_suffix():
    arn = f"{PREFIX}dcp-db-password-QWYC1r"
    spec = _spec_with_secret(arn)
    assert _granted(spec) == [arn]
    assert spec.warnings == ()
    ref = parse_secret_ref(arn)
    assert ref.is_full_arn and not ref.suffix_may_be_name and ref.name == "dcp-db-password"


def test_any_suffix_on_an_ambiguous_arn_covers_both_names():
    spec = _spec_with_secret(f"{PREFIX}billing/db-master", any_suffix=True)
    assert _granted(spec) == [f"{PREFIX}billing/db-??????", f"{PREFIX}billing/db-master-??????"]


def test_a_plain_name_is_never_split():
    spec = _spec_with_secret("billing/db-master")
    assert _granted(spec) == [f"{PREFIX}billing/db-master-??????"]


def test_pod_identity_trust_is_scoped_to_the_cluster_namespace_and_service_account():
    spec = BindingSpec.from_dict(pod_identity_data())
    (statement,) = trust_policy(spec)["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": (
                "arn:aws:eks:us-west-2:287796791794:cluster/janus-dev"
            ),
            "aws:RequestTag/kubernetes-namespace": "deploy",
            "aws:RequestTag/kubernetes-service-account": "data-access-service-secrets",
        }
    }


def test_pod_identity_trust_names_the_partition_of_the_cluster():
    data = pod_identity_data()
    data["cluster"].update(region="us-gov-west-1")
    data["secrets"][0]["arn"] = "ledger/db"
    (statement,) = trust_policy(BindingSpec.from_dict(data))["Statement"]
    cluster_arn = statement["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"]
    assert cluster_arn == "arn:aws-us-gov:eks:us-gov-west-1:287796791794:cluster/janus-dev"


def test_render_binding_prints_the_specs_warnings(tmp_path):
    data = guide_data()
    data["secrets"][0]["arn"] = "arn:aws:secretsmanager:us-west-2:111122223333:secret:shared-AbC123"
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(data))
    stdout, stderr = StringIO(), StringIO()
    call_command(
        "render_binding",
        str(spec_file),
        "--out",
        str(tmp_path / "out"),
        stdout=stdout,
        stderr=stderr,
    )
    (line,) = stderr.getvalue().splitlines()
    assert line.startswith("warning: secrets[0].arn: secret is in account 111122223333")
    assert stdout.getvalue().splitlines()  # the files are still written


def test_render_binding_prints_nothing_extra_without_warnings(tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(guide_data()))
    stderr = StringIO()
    call_command("render_binding", str(spec_file), "--out", str(tmp_path / "out"), stderr=stderr)
    assert stderr.getvalue() == ""
