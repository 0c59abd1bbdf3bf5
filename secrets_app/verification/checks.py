"""Post-merge verification of one binding against AWS (the guide's
"Validation" section, done by the portal): cluster and OIDC provider, role,
trust policy, permissions on each secret, KMS, Pod Identity association.

``verify_binding`` returns every finding, passed ones included. AWS failures
that retrying may fix (``RetryableError``) propagate so the task retries; a
missing resource or a refused lookup becomes a finding.
"""

from __future__ import annotations

from secrets_app.integrations.aws import RoleInfo
from secrets_app.integrations.errors import PermanentError
from secrets_app.verification.findings import (
    ERROR,
    STS_AUDIENCE,
    WARNING,
    ExpectedBinding,
    Finding,
    failed,
    passed,
)
from secrets_app.verification.permissions import check_permissions
from secrets_app.verification.reader import BindingReader
from secrets_app.verification.trust import check_irsa_trust, check_pod_identity_trust


def verify_binding(adapter: BindingReader, expected: ExpectedBinding) -> list[Finding]:
    findings: list[Finding] = []
    issuer = _check_cluster(adapter, expected, findings)
    if expected.identity == "irsa":
        _check_oidc_provider(adapter, expected, issuer, findings)
    try:
        role = adapter.get_role(expected.role_name)
    except PermanentError as exc:
        findings.append(
            failed(
                "role.exists",
                f"IAM role {expected.role_name} could not be read in account "
                f"{expected.account}: {exc}",
                f"create the role {expected.role_arn} (apply the infra pull request) "
                "or fix the role name in the binding",
            )
        )
        return findings
    findings.append(passed("role.exists", f"IAM role {role.arn} exists"))
    if expected.identity == "irsa":
        if issuer:
            findings.extend(check_irsa_trust(role.trust_policy, expected, issuer))
    else:
        findings.extend(check_pod_identity_trust(role.trust_policy, expected))
        findings.append(_check_association(adapter, expected, role))
    check_permissions(adapter, expected, role, findings)
    return findings


def _check_cluster(adapter: BindingReader, expected: ExpectedBinding, out: list[Finding]) -> str:
    """Returns the issuer to check the trust policy against: the cluster's own
    when EKS can tell, since that is what STS will see."""
    issuer = expected.oidc_issuer
    if not expected.cluster_name:
        return issuer
    try:
        cluster = adapter.describe_cluster(expected.cluster_name)
    except PermanentError as exc:
        out.append(
            failed(
                "cluster.exists",
                f"EKS cluster {expected.cluster_name} could not be read: {exc}",
                f"check the cluster name and region ({expected.region}) in its registration",
                severity=WARNING if issuer else ERROR,
            )
        )
        return issuer
    out.append(passed("cluster.exists", f"EKS cluster {cluster.arn} is {cluster.status}"))
    if cluster.oidc_issuer and cluster.oidc_issuer != issuer:
        out.append(
            failed(
                "cluster.oidc_issuer",
                f"registered OIDC issuer is {issuer or '(none)'}; "
                f"the cluster reports {cluster.oidc_issuer}",
                f"update the cluster registration's OIDC issuer to {cluster.oidc_issuer}",
            )
        )
        return cluster.oidc_issuer
    return issuer


def _check_oidc_provider(
    adapter: BindingReader, expected: ExpectedBinding, issuer: str, out: list[Finding]
) -> None:
    if not issuer:
        out.append(
            failed(
                "oidc_provider.exists",
                f"no OIDC issuer is known for cluster {expected.cluster_name}",
                "register the cluster's OIDC issuer (aws eks describe-cluster --query "
                "cluster.identity.oidc.issuer)",
            )
        )
        return
    provider = adapter.get_oidc_provider(issuer)
    if provider is None:
        out.append(
            failed(
                "oidc_provider.exists",
                f"IAM in account {expected.account} has no OIDC provider for {issuer}",
                f"create it: eksctl utils associate-iam-oidc-provider --cluster "
                f"{expected.cluster_name} --approve (URL https://{issuer}, "
                f"audience {STS_AUDIENCE})",
            )
        )
        return
    out.append(passed("oidc_provider.exists", f"IAM OIDC provider {provider.arn} exists"))
    if STS_AUDIENCE in provider.client_ids:
        out.append(passed("oidc_provider.audience", f"OIDC provider accepts {STS_AUDIENCE}"))
    else:
        out.append(
            failed(
                "oidc_provider.audience",
                f"OIDC provider {provider.arn} has audiences "
                f"{', '.join(provider.client_ids) or '(none)'}; expected {STS_AUDIENCE}",
                f"add client ID {STS_AUDIENCE} to the OIDC provider",
            )
        )


def _check_association(
    adapter: BindingReader, expected: ExpectedBinding, role: RoleInfo
) -> Finding:
    ns, sa, cluster = expected.namespace, expected.service_account, expected.cluster_name
    create = (
        f"aws eks create-pod-identity-association --cluster-name {cluster} "
        f"--namespace {ns} --service-account {sa} --role-arn {role.arn}"
    )
    try:
        found = adapter.list_pod_identity_associations(cluster, ns, sa)
    except PermanentError as exc:
        return failed(
            "pod_identity.association",
            f"pod identity associations could not be listed: {exc}",
            create,
            severity=WARNING,
        )
    if found is None:
        return failed(
            "pod_identity.association",
            "this AWS endpoint has no EKS Pod Identity API; the association was not checked",
            f"check by hand: aws eks list-pod-identity-associations --cluster-name {cluster} "
            f"--namespace {ns} --service-account {sa}",
            severity=WARNING,
        )
    if not found:
        return failed(
            "pod_identity.association",
            f"no pod identity association for {ns}/{sa} in cluster {cluster}",
            f"create it: {create}",
        )
    if any(a.role_arn == role.arn for a in found):
        return passed("pod_identity.association", f"{ns}/{sa} is associated with {role.arn}")
    others = ", ".join(f"{a.association_id} -> {a.role_arn}" for a in found)
    return failed(
        "pod_identity.association",
        f"pod identity association for {ns}/{sa} points to {others}; expected {role.arn}",
        f"aws eks update-pod-identity-association --cluster-name {cluster} "
        f"--association-id {found[0].association_id} --role-arn {role.arn}",
    )
