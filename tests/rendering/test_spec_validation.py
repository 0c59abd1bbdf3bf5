"""Each validation rule, with a bad value and the path it is reported at."""

from __future__ import annotations

from typing import Any

import pytest

from secrets_app.rendering import BindingSpec, SpecInvalid
from tests.rendering.rendering_support import guide_data, pod_identity_data

OTHER_ACCOUNT_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:shared-token-AbC123"


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(SpecInvalid) as info:
        BindingSpec.from_dict(data)
    found = {p.path: p.message for p in info.value.problems}
    assert len(found) == len(info.value.problems), "one problem per path"
    return found


def with_secret(**fields: Any) -> dict:
    data = guide_data()
    data["secrets"][0].update(fields)
    return data


def with_second_secret(**fields: Any) -> dict:
    data = guide_data()
    data["secrets"].append({"arn": "other-secret", "alias": "other", **fields})
    return data


def with_sync_key(**fields: Any) -> dict:
    data = guide_data()
    data["secrets"][0]["sync"]["keys"].append(
        {"object": "dcp-db-password", "key": "other", **fields}
    )
    return data


def test_the_guide_example_is_valid():
    BindingSpec.from_dict(guide_data())
    BindingSpec.from_dict(pod_identity_data())


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        (guide_data(namespace="Deploy"), "namespace", "DNS-1123"),
        (guide_data(service="data_access"), "service", "DNS-1123"),
        (guide_data(service="s" * 64), "service", "at most 63"),
        (guide_data(service_account="SA!"), "service_account", "DNS-1123"),
        (guide_data(role_name="r" * 65), "role_name", "64"),
        (guide_data(mount_path="relative/path"), "mount_path", "absolute"),
        (guide_data(mount_path="/mnt/../etc"), "mount_path", ".."),
        (
            guide_data(workload={"kind": "DaemonSet", "name": "x", "containers": ["app"]}),
            "workload.kind",
            "Deployment",
        ),
        (
            guide_data(workload={"name": "x", "containers": []}),
            "workload.containers",
            "at least one",
        ),
        (
            guide_data(workload={"name": "x", "containers": ["app", "app"]}),
            "workload.containers[1]",
            "twice",
        ),
        (
            guide_data(workload={"name": "x", "containers": ["app", "Side_car"]}),
            "workload.containers[1]",
            "DNS-1123",
        ),
        (guide_data(workload={"name": "x", "containers": [7]}), "workload.containers[0]", "string"),
        (with_secret(alias="../etc"), "secrets[0].alias", ".."),
        (with_secret(alias="a/b"), "secrets[0].alias", "/"),
        (with_second_secret(alias="dcp-db-password"), "secrets[1].alias", "duplicate object alias"),
        (
            with_second_secret(jmes=[{"path": "a", "alias": "dcp-db-password"}]),
            "secrets[1].jmes[0].alias",
            "duplicate object alias",
        ),
        (
            with_second_secret(jmes=[{"path": "a", "alias": "x"}, {"path": "b", "alias": "x"}]),
            "secrets[1].jmes[1].alias",
            "duplicate object alias",
        ),
        (with_second_secret(jmes=[{"alias": "x"}]), "secrets[1].jmes[0].path", "required"),
        (with_second_secret(jmes=[{"path": "a"}]), "secrets[1].jmes[0].alias", "required"),
        (
            with_second_secret(jmes=[{"path": "a", "alias": "x"}, {"path": "../a", "alias": "y"}]),
            "secrets[1].jmes[1].path",
            "path can not contain ../: ../a",
        ),
        (
            with_second_secret(jmes=[{"path": "a[", "alias": "x"}]),
            "secrets[1].jmes[0].path",
            "has a `[` without its `]`",
        ),
        (
            with_second_secret(jmes=[{"path": "", "alias": "x"}]),
            "secrets[1].jmes[0].path",
            "required",
        ),
        (with_secret(file_permission="644"), "secrets[0].file_permission", "four octal"),
        (with_secret(file_permission="0948"), "secrets[0].file_permission", "four octal"),
        (with_secret(object_type="ssmparameter"), "secrets[0].object_type", "secretsmanager"),
        (with_secret(kms_key_arn="alias/aws/secretsmanager"), "secrets[0].kms_key_arn", "KMS"),
        (with_secret(arn="arn:aws:s3:::bucket"), "secrets[0].arn", "not a Secrets Manager"),
        (with_secret(arn="name with spaces"), "secrets[0].arn", "letters, digits"),
        (
            with_secret(arn="arn:aws:secretsmanager:us-east-1:287796791794:secret:x-AbC123"),
            "secrets[0].arn",
            "ARN region must match region us-west-2: "
            "arn:aws:secretsmanager:us-east-1:287796791794:secret:x-AbC123",
        ),
        (
            with_secret(arn="arn:aws-cn:secretsmanager:us-west-2:287796791794:secret:x-AbC123"),
            "secrets[0].arn",
            "partition",
        ),
        (
            with_secret(
                sync={
                    "secret_name": "s",
                    "type": "Opaque",
                    "keys": [{"object": "nope", "key": "k"}],
                }
            ),
            "secrets[0].sync.keys[0].object",
            "file matching objectName nope not found in the pod",
        ),
        (
            with_secret(
                sync={
                    "secret_name": "s",
                    "type": "Secretive",
                    "keys": [{"object": "dcp-db-password", "key": "k"}],
                }
            ),
            "secrets[0].sync.type",
            "Opaque",
        ),
        (
            with_secret(
                sync={
                    "secret_name": "Bad_Name",
                    "keys": [{"object": "dcp-db-password", "key": "k"}],
                }
            ),
            "secrets[0].sync.secret_name",
            "DNS-1123",
        ),
        (
            with_secret(sync={"secret_name": "s", "keys": []}),
            "secrets[0].sync.keys",
            "at least one",
        ),
        (with_sync_key(key="rds_password"), "secrets[0].sync.keys[1].key", "twice"),
        (with_sync_key(key="bad key"), "secrets[0].sync.keys[1].key", "Secret key"),
        (with_sync_key(key=".."), "secrets[0].sync.keys[1].key", "'..'"),
        (with_sync_key(env="DB_PASSWORD"), "secrets[0].sync.keys[1].env", "also set at"),
        (with_sync_key(env="1BAD"), "secrets[0].sync.keys[1].env", "environment variable"),
        (
            with_second_secret(
                sync={"secret_name": "dcp-db-password", "keys": [{"object": "other", "key": "k"}]}
            ),
            "secrets[1].sync.secret_name",
            "synced twice",
        ),
        (guide_data(secrets=[]), "secrets", "at least one"),
        (guide_data(secrets="x"), "secrets", "list"),
        (guide_data(request={"id": 1, "requester": 'eve"; drop'}), "request.requester", "IAM tag"),
        (guide_data(request={"id": True}), "request.id", "number"),
        (guide_data(extra=1), "extra", "Unknown field"),
        (with_secret(alias_typo="x"), "secrets[0].alias_typo", "Unknown field"),
    ],
)
def test_it_reports_the_problem_at_its_path(data, path, fragment):
    found = problems(data)
    assert path in found, found
    assert fragment in found[path]


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"name": "-bad"}, "cluster.name", "EKS cluster name"),
        ({"account_id": "12345"}, "cluster.account_id", "12 digits"),
        ({"region": "mars-1"}, "cluster.region", "region"),
        ({"identity": "keys"}, "cluster.identity", "irsa"),
        ({"oidc_issuer": None}, "cluster.oidc_issuer", "IRSA needs"),
        ({"oidc_issuer": "oidc.example.com/x"}, "cluster.oidc_issuer", "oidc.eks"),
        (
            {"oidc_issuer": "oidc.eks.eu-west-1.amazonaws.com/id/ABC"},
            "cluster.oidc_issuer",
            "region",
        ),
        ({"layout": {"deploy": "../x"}}, "cluster.layout.deploy", ".."),
        ({"layout": {"infra": 3}}, "cluster.layout.infra", "string"),
    ],
)
def test_it_reports_cluster_problems(change, path, fragment):
    data = guide_data()
    data["cluster"].update(change)
    found = problems(data)
    assert path in found, found
    assert fragment in found[path]


def test_it_reports_every_problem_not_just_the_first():
    data = guide_data(namespace="BAD", service="Bad")
    data["cluster"]["region"] = "nowhere"
    data["secrets"][0]["alias"] = "../x"
    data["secrets"][0]["sync"]["keys"][0]["env"] = "9"
    assert {"namespace", "service", "cluster.region", "secrets[0].alias"} <= set(problems(data))
    assert "secrets[0].sync.keys[0].env" in problems(data)


def test_it_reports_missing_required_fields():
    found = problems({})
    for path in ("cluster", "service", "namespace", "workload", "secrets"):
        assert path in found, found


def test_a_non_object_spec_is_one_problem():
    assert problems([]) == {"": "Expected an object."}


def test_cross_account_secret_is_a_warning_not_a_problem():
    spec = BindingSpec.from_dict(with_second_secret(arn=OTHER_ACCOUNT_ARN))
    (warning,) = spec.warnings
    assert warning.path == "secrets[1].arn"
    assert warning.message == (
        "secret is in account 111122223333, cluster is in 287796791794: "
        "needs a resource policy and a customer-managed KMS key"
    )


def test_partial_arn_is_a_warning():
    spec = BindingSpec.from_dict(
        with_second_secret(arn="arn:aws:secretsmanager:us-west-2:287796791794:secret:other")
    )
    assert [w.path for w in spec.warnings] == ["secrets[1].arn"]


def test_pod_identity_does_not_need_an_issuer():
    spec = BindingSpec.from_dict(pod_identity_data())
    assert spec.cluster.identity == "pod_identity"
    assert spec.cluster.oidc_issuer is None


def test_https_prefix_on_the_issuer_is_dropped():
    data = guide_data()
    data["cluster"]["oidc_issuer"] = "https://" + data["cluster"]["oidc_issuer"]
    spec = BindingSpec.from_dict(data)
    assert spec.cluster.oidc_issuer.startswith("oidc.eks.")


def test_messages_are_single_lines():
    found = problems(with_second_secret(jmes=[{"path": "a\n[", "alias": "x"}]))
    assert "\n" not in found["secrets[1].jmes[0].path"]
