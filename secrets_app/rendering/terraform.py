"""Terraform for one binding (infra repository) and its IAM documents as data.

The policies are described once, as statements, and written two ways: as
``data "aws_iam_policy_document"`` blocks in the .tf file and as IAM JSON
(``trust_policy`` / ``permissions_policy``), which verification compares with
what AWS returns. Single values are written as strings rather than one-item
lists, as ``aws_iam_policy_document`` renders them and as the guide shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secrets_app.rendering import name_rules
from secrets_app.rendering.hcl import Block, Ref, Value, render
from secrets_app.rendering.names import BindingNames
from secrets_app.rendering.spec import BindingSpec

POLICY_VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
# Session tags EKS Pod Identity sets when it assumes a role (EKS user guide,
# "Create IAM role with trust policy required by EKS Pod Identity").
POD_IDENTITY_CLUSTER_TAG = "aws:RequestTag/eks-cluster-arn"
POD_IDENTITY_NAMESPACE_TAG = "aws:RequestTag/kubernetes-namespace"
POD_IDENTITY_SERVICE_ACCOUNT_TAG = "aws:RequestTag/kubernetes-service-account"
SECRET_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
KMS_ACTIONS = ("kms:Decrypt",)
KMS_VIA_SERVICE = "kms:ViaService"
MANAGED_BY = "secrets-access-portal"


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    principal_type: str | None = None
    principals: tuple[str, ...] = ()
    # (test, variable, value), one StringEquals entry each.
    conditions: tuple[tuple[str, str, str], ...] = ()


SUFFIX_WILDCARD = "-??????"


def secret_resources(spec: BindingSpec, index: int) -> tuple[str, ...]:
    """The ARNs the policy grants for ``spec.secrets[index]``.

    The exact ARN when a full ARN was given. Otherwise (a plain name, a
    partial ARN, or ``any_suffix``) ``<...:secret:name>-??????``: the six
    characters Secrets Manager appends, and no more (``*`` would also match
    ``name-other-abc123``). An ARN whose suffix may be the end of the name
    (``SecretRef.suffix_may_be_name``: ``billing/db-master``) gets both
    readings: its exact ARN, and ``billing/db-master-??????``.
    """
    secret = spec.secrets[index]
    ref = secret.ref
    c = spec.cluster
    prefix = (
        f"arn:{ref.partition or c.partition}:secretsmanager:{ref.region or c.region}:"
        f"{ref.account or c.account_id}:secret:"
    )
    if not ref.is_full_arn:
        return (f"{prefix}{ref.name}{SUFFIX_WILDCARD}",)
    full = f"{prefix}{ref.name}{SUFFIX_WILDCARD}" if secret.any_suffix else secret.arn
    if not ref.suffix_may_be_name:
        return (full,)
    return (full, f"{prefix}{ref.whole_name}{SUFFIX_WILDCARD}")


def trust_statements(spec: BindingSpec, names: BindingNames) -> tuple[Statement, ...]:
    if spec.cluster.identity == "pod_identity":
        # Without conditions any pod identity association in the account
        # could use the role; the session tags scope it to this cluster's
        # ServiceAccount, as the IRSA ``sub`` condition does.
        return (
            Statement(
                sid="EksPodIdentity",
                actions=("sts:AssumeRole", "sts:TagSession"),
                principal_type="Service",
                principals=(POD_IDENTITY_PRINCIPAL,),
                conditions=(
                    ("StringEquals", POD_IDENTITY_CLUSTER_TAG, names.eks_cluster_arn),
                    ("StringEquals", POD_IDENTITY_NAMESPACE_TAG, names.namespace),
                    ("StringEquals", POD_IDENTITY_SERVICE_ACCOUNT_TAG, names.service_account),
                ),
            ),
        )
    issuer = spec.cluster.oidc_issuer
    subject = f"system:serviceaccount:{names.namespace}:{names.service_account}"
    return (
        Statement(
            sid="Irsa",
            actions=("sts:AssumeRoleWithWebIdentity",),
            principal_type="Federated",
            principals=(names.oidc_provider_arn or "",),
            conditions=(
                ("StringEquals", f"{issuer}:sub", subject),
                ("StringEquals", f"{issuer}:aud", STS_AUDIENCE),
            ),
        ),
    )


def permission_statements(spec: BindingSpec) -> tuple[Statement, ...]:
    resources = tuple(
        dict.fromkeys(r for i in range(len(spec.secrets)) for r in secret_resources(spec, i))
    )
    statements = [Statement(sid="Secrets", actions=SECRET_ACTIONS, resources=resources)]
    keys = tuple(dict.fromkeys(s.kms_key_arn for s in spec.secrets if s.kms_key_arn))
    if keys:
        # Decrypt only through Secrets Manager, i.e. by reading the secrets:
        # without the condition the role could decrypt anything else sealed
        # with the same key by calling KMS itself. The keys are in the
        # secrets' region, which is the cluster's (checks.py).
        via = name_rules.secrets_manager_via(spec.cluster.region)
        statements.append(
            Statement(
                sid="KmsDecrypt",
                actions=KMS_ACTIONS,
                resources=keys,
                conditions=(("StringEquals", KMS_VIA_SERVICE, via),),
            )
        )
    return tuple(statements)


def _one_or_many(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _statement_json(st: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": st.sid, "Effect": "Allow", "Action": _one_or_many(st.actions)}
    if st.resources:
        out["Resource"] = _one_or_many(st.resources)
    if st.principal_type:
        out["Principal"] = {st.principal_type: _one_or_many(st.principals)}
    if st.conditions:
        condition: dict[str, dict[str, Any]] = {}
        for test, variable, value in st.conditions:
            condition.setdefault(test, {})[variable] = value
        out["Condition"] = condition
    return out


def _policy_json(statements: tuple[Statement, ...]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": [_statement_json(s) for s in statements]}


def trust_policy(spec: BindingSpec, names: BindingNames | None = None) -> dict[str, Any]:
    """The role's trust policy (AssumeRolePolicyDocument) as IAM JSON."""
    return _policy_json(trust_statements(spec, names or BindingNames.from_spec(spec)))


def permissions_policy(spec: BindingSpec) -> dict[str, Any]:
    """The attached policy's document as IAM JSON."""
    return _policy_json(permission_statements(spec))


def tags(spec: BindingSpec) -> dict[str, str]:
    out = {"ManagedBy": MANAGED_BY, "Service": spec.service}
    if spec.request.id is not None:
        out["PortalRequest"] = str(spec.request.id)
    if spec.request.requester is not None:
        out["Requester"] = spec.request.requester
    return out


def _statement_block(st: Statement) -> Block:
    body: list[tuple[str, Value] | Block] = [
        ("sid", st.sid),
        ("effect", "Allow"),
        ("actions", list(st.actions)),
    ]
    if st.resources:
        body.append(("resources", list(st.resources)))
    if st.principal_type:
        body.append(
            Block(
                "principals",
                (),
                (("type", st.principal_type), ("identifiers", list(st.principals))),
            )
        )
    for test, variable, value in st.conditions:
        body.append(
            Block("condition", (), (("test", test), ("variable", variable), ("values", [value])))
        )
    return Block("statement", (), tuple(body))


def terraform_blocks(spec: BindingSpec, names: BindingNames) -> list[Block]:
    label = names.tf_label
    trust, permissions = f"{label}_trust", f"{label}_permissions"
    tag_map = tags(spec)
    blocks = [
        Block(
            "data",
            ("aws_iam_policy_document", trust),
            tuple(_statement_block(s) for s in trust_statements(spec, names)),
        ),
        Block(
            "data",
            ("aws_iam_policy_document", permissions),
            tuple(_statement_block(s) for s in permission_statements(spec)),
        ),
        Block(
            "resource",
            ("aws_iam_role", label),
            (
                ("name", names.role_name),
                ("assume_role_policy", Ref(f"data.aws_iam_policy_document.{trust}.json")),
                ("tags", tag_map),
            ),
        ),
        Block(
            "resource",
            ("aws_iam_policy", label),
            (
                ("name", names.policy_name),
                ("description", f"Secrets for {spec.service} in {spec.namespace}"),
                ("policy", Ref(f"data.aws_iam_policy_document.{permissions}.json")),
                ("tags", tag_map),
            ),
        ),
        Block(
            "resource",
            ("aws_iam_role_policy_attachment", label),
            (
                ("role", Ref(f"aws_iam_role.{label}.name")),
                ("policy_arn", Ref(f"aws_iam_policy.{label}.arn")),
            ),
        ),
    ]
    if spec.cluster.identity == "pod_identity":
        blocks.append(
            Block(
                "resource",
                ("aws_eks_pod_identity_association", label),
                (
                    ("cluster_name", spec.cluster.name),
                    ("namespace", names.namespace),
                    ("service_account", names.service_account),
                    ("role_arn", Ref(f"aws_iam_role.{label}.arn")),
                    ("tags", tag_map),
                ),
            )
        )
    blocks.append(
        Block("output", (f"{label}_role_arn",), (("value", Ref(f"aws_iam_role.{label}.arn")),))
    )
    return blocks


def render_terraform(spec: BindingSpec, names: BindingNames) -> str:
    header = (
        "Rendered by the Secrets Access Portal; edits are overwritten.",
        f"Binding: {spec.service} in {spec.cluster.name}/{spec.namespace}.",
    )
    return render(terraform_blocks(spec, names), header)
