"""The rendered Terraform, run by real ``terraform`` (1.11, hashicorp/aws from
a filesystem mirror: DEVELOPERS.md) against moto: ``init`` and ``validate``
for every spec of the table, then ``apply``, the portal's own verification
of what Terraform created, and ``destroy``.

An apply with its destroy takes tens of seconds, so CI applies ``APPLIED``
and the whole table runs with ``PORTAL_TERRAFORM_ALL=1``. A missing binary
or mirror fails with the reason (``TerraformUnavailable``), never skips.

moto has no EKS Pod Identity API: for Pod Identity specs ``plan`` shows the
association, and ``apply`` creates the IAM part only (verification then
reports the association as not checkable, a warning)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from secrets_app.aws_portal.verify import _secret_pattern
from secrets_app.demo.terraform import TerraformUnavailable, Workspace
from secrets_app.integrations.aws import AwsAdapter, RoleSessionCache
from secrets_app.models import Cluster
from secrets_app.rendering import BindingNames, BindingSpec, render_binding
from secrets_app.verification import ExpectedBinding, has_errors, verify_binding
from tests.deploy.binding_specs import ACCOUNT, CLUSTER, REGION, SECRETS, SPECS

APPLIED = ("irsa-one-secret", "pod-identity-many", "ambiguous-suffix")
ALL = os.environ.get("PORTAL_TERRAFORM_ALL") == "1"


def _workspace(folder: Path, endpoint: str, region: str) -> Workspace:
    try:
        return Workspace.create(folder, endpoint=endpoint, region=region)
    except TerraformUnavailable as exc:
        pytest.fail(f"Terraform cannot run here: {exc}")


def _tf_files(spec: BindingSpec) -> dict[str, str]:
    return {
        path.rsplit("/", 1)[-1]: text for path, text in render_binding(spec).files["infra"].items()
    }


def test_every_spec_validates(tmp_path):
    """All specs in one module, as an infra folder holds many bindings: their
    labels must not collide either."""
    workspace = _workspace(tmp_path / "tf", "http://127.0.0.1:1", REGION)
    files: dict[str, str] = {}
    for make in SPECS.values():
        files.update(_tf_files(BindingSpec.from_dict(make())))
    assert len(files) == len(SPECS)
    workspace.write(files)
    workspace.init()
    assert "The configuration is valid" in workspace.validate()


def _cluster_issuer(clients: Any) -> str:
    """The EKS cluster the specs name, and its OIDC provider in IAM: what
    exists before any infra pull request (the issuer is moto's)."""
    eks, iam = clients("eks"), clients("iam")
    partition = "aws-us-gov" if eks.meta.region_name.startswith("us-gov-") else "aws"
    eks.create_cluster(
        name=CLUSTER,
        roleArn=f"arn:{partition}:iam::{ACCOUNT}:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": []},
    )
    issuer = eks.describe_cluster(name=CLUSTER)["cluster"]["identity"]["oidc"]["issuer"]
    issuer = issuer.removeprefix("https://")
    iam.create_open_id_connect_provider(
        Url=f"https://{issuer}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    return issuer


def _spec_in_world(clients: Any, spec_name: str, issuer: str) -> BindingSpec:
    """The spec, its secrets created first (under a new customer-managed key
    where the spec names one)."""
    data = SPECS[spec_name](issuer=issuer)
    needs_key = any(s.get("kms_key_arn") for s in data["secrets"])
    key = (
        clients("kms").create_key(Description="tools")["KeyMetadata"]["Arn"] if needs_key else None
    )
    for name in SECRETS[spec_name]:
        extra = {"KmsKeyId": key} if key else {}
        clients("secretsmanager").create_secret(Name=name, SecretString="never-read", **extra)
    for secret in data["secrets"]:
        if secret.get("kms_key_arn"):
            secret["kms_key_arn"] = key
    return BindingSpec.from_dict(data)


def _expected(spec: BindingSpec, issuer: str) -> ExpectedBinding:
    """What ``aws_portal.verify.expected_binding`` derives from a binding's
    records, from the spec they were filed as; ``issuer`` is the cluster's,
    which its registration records whatever its identity mode."""
    c = spec.cluster
    cluster = Cluster(name=c.name, aws_account_id=c.account_id, region=c.region)
    names = BindingNames.from_spec(spec)
    patterns = [_secret_pattern(cluster, s.arn, s.any_suffix) for s in spec.secrets]
    return ExpectedBinding(
        account=c.account_id,
        region=c.region,
        cluster_name=c.name,
        role_name=names.role_name,
        namespace=spec.namespace,
        service_account=names.service_account,
        secret_arns=tuple(patterns),
        oidc_issuer=issuer,
        identity=c.identity,
        partition=c.partition,
        kms_key_arns={
            p: s.kms_key_arn for p, s in zip(patterns, spec.secrets, strict=True) if s.kms_key_arn
        },
    )


def _iam_targets(names: BindingNames) -> tuple[str, ...]:
    """Everything but the Pod Identity association, which moto cannot create."""
    label = names.tf_label
    return (
        f"aws_iam_role.{label}",
        f"aws_iam_policy.{label}",
        f"aws_iam_role_policy_attachment.{label}",
    )


def _groups() -> list[Any]:
    """Specs applied together, as one infra folder holds a cluster's bindings
    (one provider start-up for all of them): CI's, then the rest of the
    table with PORTAL_TERRAFORM_ALL=1, GovCloud in its own region."""
    rest = tuple(n for n in sorted(SPECS) if n not in APPLIED and n != "govcloud")
    groups = [pytest.param(APPLIED, id="ci", marks=pytest.mark.slow)]
    if ALL:
        groups += [
            pytest.param(rest, id="rest-of-the-table", marks=pytest.mark.slow),
            pytest.param(("govcloud",), id="govcloud", marks=pytest.mark.slow),
        ]
    return groups


def _clients_in(moto: str, region: str) -> Callable[[str], Any]:
    """boto3 clients straight to moto, in the specs' region (GovCloud's for it)."""
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(service, endpoint_url=moto, region_name=region)
        return made[service]

    return client


@pytest.mark.parametrize("spec_names", _groups())
def test_apply_verify_destroy(spec_names, moto, tmp_path):
    region = SPECS[spec_names[0]]()["cluster"]["region"]
    clients = _clients_in(moto, region)
    issuer = _cluster_issuer(clients)
    specs = {name: _spec_in_world(clients, name, issuer) for name in spec_names}
    workspace = _workspace(tmp_path / "tf", moto, region)
    files: dict[str, str] = {}
    for spec in specs.values():
        files.update(_tf_files(spec))
    workspace.write(files)
    workspace.init()  # validate: test_every_spec_validates
    all_names = {name: BindingNames.from_spec(spec) for name, spec in specs.items()}
    plan = workspace.plan()
    for name, spec in specs.items():
        if spec.cluster.identity == "pod_identity":
            association = f"aws_eks_pod_identity_association.{all_names[name].tf_label}"
            assert f"{association} will be created" in plan, name
    workspace.apply(tuple(t for n in all_names.values() for t in _iam_targets(n)))

    adapter = AwsAdapter(region=region, endpoint_url=moto, session_cache=RoleSessionCache())
    for name, spec in specs.items():
        names = all_names[name]
        assert adapter.get_role(names.role_name).arn == names.role_arn, name
        findings = verify_binding(adapter, _expected(spec, issuer))
        assert not has_errors(findings), (name, [f.to_dict() for f in findings if not f.ok])
        passed = {f.code for f in findings if f.ok}
        assert {"role.exists", "permissions.read_secret"} <= passed, name
        pod_identity = spec.cluster.identity == "pod_identity"
        assert ("trust.pod_identity_scope" if pod_identity else "trust.sub") in passed, name

    workspace.destroy()
    assert workspace.state() == []
    iam = clients("iam")
    for names in all_names.values():
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role(RoleName=names.role_name)
    assert not iam.list_policies(Scope="Local")["Policies"]
