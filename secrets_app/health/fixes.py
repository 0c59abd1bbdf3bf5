"""Fixes that name the binding's own values.

The catalogue (``health.diagnosis``) says what to do in general ("annotate
the ServiceAccount with <the role ARN>"), because a sweep stores it once for
any binding. The binding page knows the role, the namespace, the
ServiceAccount and the secrets, so it says it with those: the fix can be
copied rather than translated. Codes without anything binding-specific
(a driver or an add-on missing on a node) keep the catalogue's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from secrets_app.models import Binding
from secrets_app.models.clusters import IdentityMode
from secrets_app.verification.findings import STS_AUDIENCE, SUFFIX_WILDCARD

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a fix may name, read from the binding and its cluster (no query
    beyond the binding page's own: cluster joined, secrets prefetched)."""

    role_arn: str
    namespace: str
    service_account: str
    secret_class: str
    workload: str  # "Deployment shop/api"
    cluster: str  # the EKS name
    account: str
    region: str
    issuer: str
    pod_identity: bool
    secrets: tuple[str, ...]  # ARN patterns that survive re-creation
    aliases: tuple[str, ...]
    synced: tuple[str, ...]

    @property
    def sa(self) -> str:
        return f"{self.namespace}/{self.service_account}"

    @property
    def role(self) -> str:
        return self.role_arn or "the binding's role (none recorded)"

    @property
    def issuer_name(self) -> str:
        return self.issuer or "<the cluster's OIDC issuer: not registered in the portal>"


def facts_of(binding: Binding) -> Facts:
    cluster = binding.cluster
    secrets = list(binding.secrets.all())
    return Facts(
        role_arn=binding.role_arn,
        namespace=binding.namespace,
        service_account=binding.service_account,
        secret_class=binding.secret_provider_class,
        workload=f"{binding.workload_kind} {binding.namespace}/{binding.workload_name}",
        cluster=cluster.eks_cluster_name or cluster.name,
        account=cluster.aws_account_id,
        region=_region(secrets) or cluster.region,
        issuer=cluster.oidc_issuer,
        pod_identity=cluster.identity_mode == IdentityMode.POD_IDENTITY,
        secrets=tuple(_survives_recreation(s.arn, s.name) for s in secrets),
        aliases=tuple(s.alias for s in secrets),
        synced=tuple(binding.synced_secret_names or ()),
    )


def _region(secrets) -> str:
    # arn:aws:secretsmanager:<region>:<account>:secret:<name>
    for s in secrets:
        parts = s.arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return ""


def _survives_recreation(arn: str, name: str) -> str:
    head, found, _ = arn.partition(":secret:")
    return f"{head}:secret:{name}{SUFFIX_WILDCARD}" if found and name else arn


def _listed(items: tuple[str, ...], empty: str) -> str:
    return ", ".join(items) if items else empty


def _annotate(f: Facts) -> str:
    return (
        f"kubectl annotate serviceaccount -n {f.namespace} {f.service_account} "
        f"{ROLE_ANNOTATION}={f.role} --overwrite"
    )


def _associate(f: Facts) -> str:
    return (
        f"aws eks create-pod-identity-association --cluster-name {f.cluster} "
        f"--namespace {f.namespace} --service-account {f.service_account} --role-arn {f.role}"
    )


def _role_not_associated(f: Facts) -> str:
    if f.pod_identity:
        return (
            f'Set usePodIdentity: "true" in the SecretProviderClass {f.namespace}/'
            f"{f.secret_class}, and make sure the association exists: {_associate(f)}"
        )
    return f"Annotate the ServiceAccount {f.sa} with {ROLE_ANNOTATION}: {f.role} ({_annotate(f)})."


def _trust_denied(f: Facts) -> str:
    if f.pod_identity:
        return (
            f"Fix the trust policy of {f.role}: principal Service pods.eks.amazonaws.com, "
            "actions sts:AssumeRole and sts:TagSession."
        )
    return (
        f"Fix the trust policy of {f.role}: Federated principal "
        f"arn:aws:iam::{f.account}:oidc-provider/{f.issuer_name}, "
        f"{f.issuer_name}:sub = system:serviceaccount:{f.namespace}:{f.service_account}, "
        f"{f.issuer_name}:aud = {STS_AUDIENCE}."
    )


def _policy_denies(f: Facts) -> str:
    return (
        f"Grant {f.role} secretsmanager:GetSecretValue and secretsmanager:DescribeSecret on "
        f"{_listed(f.secrets, 'the secrets of the binding')}."
    )


def _kms_denied(f: Facts) -> str:
    return (
        f"Add kms:Decrypt on the customer-managed key of "
        f"{_listed(f.secrets, 'the secret')} to the policy of {f.role}, and allow "
        f"{f.role} in that key's key policy."
    )


def _secret_not_found(f: Facts) -> str:
    return (
        f"Fix objectName in the SecretProviderClass {f.namespace}/{f.secret_class} (full ARN, "
        f"or the exact name without the 6-character suffix) and its region ({f.region}); "
        f"the binding's secrets: {_listed(f.secrets, 'none recorded')}."
    )


def _region_mismatch(f: Facts) -> str:
    return f"Set region: {f.region} in the SecretProviderClass {f.namespace}/{f.secret_class}."


def _agent(f: Facts) -> str:
    return (
        f"Install the eks-pod-identity-agent add-on on {f.cluster} and create the "
        f"association: {_associate(f)}"
    )


def _class_not_found(f: Facts) -> str:
    return (
        f"Make the secrets-store volume of {f.workload} name secretProviderClass: "
        f"{f.secret_class}, and apply that class in namespace {f.namespace}."
    )


def _objectname(f: Facts) -> str:
    return (
        f"In the secretObjects of {f.namespace}/{f.secret_class}, use a mounted file name "
        f"as objectName: {_listed(f.aliases, 'an objectAlias')}."
    )


def _resource_policy(f: Facts) -> str:
    return (
        f"Add a resource policy to {_listed(f.secrets, 'the secret')} that allows {f.role} "
        "secretsmanager:GetSecretValue, and encrypt it with a customer-managed KMS key that "
        f"{f.role} may use (aws/secretsmanager cannot be shared across accounts)."
    )


def _sa_missing(f: Facts) -> str:
    return (
        f"Apply the ServiceAccount {f.service_account} in namespace {f.namespace} from the "
        "deploy repository."
    )


def _sa_renamed(f: Facts) -> str:
    return (
        f"The role trusts the ServiceAccount {f.service_account} in {f.namespace}, but the "
        "service's kustomization renames it (namePrefix/nameSuffix): request the access "
        'again with that prefix and suffix ("The kustomization renames"), then revoke '
        "this binding."
    )


def _annotation_missing(f: Facts) -> str:
    return f"Annotate the ServiceAccount {f.sa} with {ROLE_ANNOTATION}: {f.role} ({_annotate(f)})."


def _annotation_mismatch(f: Facts) -> str:
    return (
        f"Set {ROLE_ANNOTATION} on {f.sa} to {f.role} ({_annotate(f)}), then restart the "
        f"pods of {f.workload}."
    )


def _class_missing(f: Facts) -> str:
    return f"Apply the SecretProviderClass {f.secret_class} in namespace {f.namespace}."


def _volume_class(f: Facts) -> str:
    return (
        f"Set volumeAttributes.secretProviderClass of the secrets-store volume of "
        f"{f.workload} to {f.secret_class} (the class name, not the ServiceAccount's)."
    )


def _synced_missing(f: Facts) -> str:
    return (
        f"Read the FailedToCreateSecret events of the pods of {f.workload} for "
        f"{_listed(f.synced, 'the synced Secrets')}, and check that the driver runs "
        "with syncSecret.enabled=true."
    )


#: Diagnosis code (``health.diagnosis``) -> the fix with the binding's values.
_FIXES: dict[str, Callable[[Facts], str]] = {
    "irsa-role-not-associated": _role_not_associated,
    "irsa-trust-denied": _trust_denied,
    "iam-policy-denies-secret": _policy_denies,
    "kms-decrypt-denied": _kms_denied,
    "secret-not-found": _secret_not_found,
    "region-mismatch": _region_mismatch,
    "pod-identity-agent": _agent,
    "spc-not-found": _class_not_found,
    "sync-objectname-mismatch": _objectname,
    "cross-account-resource-policy": _resource_policy,
    "sa-missing": _sa_missing,
    "sa-renamed": _sa_renamed,
    "sa-annotation-missing": _annotation_missing,
    "sa-annotation-mismatch": _annotation_mismatch,
    "spc-missing": _class_missing,
    "volume-class-mismatch": _volume_class,
    "synced-secret-missing": _synced_missing,
}


def fix_for(code: str, binding: Binding) -> str | None:
    """The fix of diagnosis ``code`` naming ``binding``'s values; None when
    the catalogue's general fix is all there is to say."""
    fix = _FIXES.get(code)
    return fix(facts_of(binding)) if fix else None
