"""The diagnosis catalogue: known mount/sync failure texts -> cause and fix.

Patterns match the exact, case-sensitive texts the AWS provider, the CSI
driver and the kubelet produce (``design/DOMAIN.md``, "Diagnosis catalogue").
An unknown message gets no diagnosis so that the UI shows it verbatim rather
than a wrong guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from secrets_app.health.types import Diagnosis


@dataclass(frozen=True, slots=True)
class _Entry:
    number: int
    patterns: tuple[re.Pattern[str], ...]
    diagnosis: Diagnosis


def _lit(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


def _seq(*parts: str) -> re.Pattern[str]:
    # "A ... B": both texts, in that order, anywhere in the message.
    return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


def _entry(number: int, code: str, title: str, cause: str, fix: str, *patterns) -> _Entry:
    return _Entry(number, tuple(patterns), Diagnosis(code, title, cause, fix))


_ENTRIES = (
    _entry(
        1,
        "irsa-role-not-associated",
        "No IAM role for the service account",
        "The ServiceAccount lacks the eks.amazonaws.com/role-arn annotation, or the "
        'class relies on EKS Pod Identity without usePodIdentity: "true".',
        'Annotate the ServiceAccount with the role ARN, or set usePodIdentity: "true" '
        "in the SecretProviderClass parameters.",
        _lit("An IAM role must be associated with service account"),
    ),
    _entry(
        2,
        "irsa-trust-denied",
        "The role's trust policy rejects the pod",
        "The trust policy's sub/aud conditions, the OIDC provider, the namespace or "
        "the ServiceAccount name do not match this pod's identity.",
        "Fix the trust policy: Federated principal = the cluster's OIDC provider, "
        "<issuer>:sub = system:serviceaccount:<namespace>:<sa>, <issuer>:aud = sts.amazonaws.com.",
        _lit("Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        _seq("operation error STS: AssumeRoleWithWebIdentity", "AccessDenied"),
    ),
    _entry(
        3,
        "iam-policy-denies-secret",
        "The role may not read the secret",
        "The permissions policy lacks secretsmanager:GetSecretValue, or its Resource "
        "does not match the secret's ARN.",
        "Grant secretsmanager:GetSecretValue and DescribeSecret on the secret's ARN "
        "(or <name>-?????? to survive re-creation).",
        _seq(
            "is not authorized to perform: secretsmanager:GetSecretValue",
            "because no identity-based policy allows",
        ),
    ),
    _entry(
        4,
        "kms-decrypt-denied",
        "The role may not decrypt the secret's KMS key",
        "The secret is encrypted with a customer-managed KMS key and the role lacks "
        "kms:Decrypt on it.",
        "Add kms:Decrypt on the key to the role's policy (and allow the role in the key policy).",
        _lit("Access to KMS is not allowed"),
    ),
    _entry(
        5,
        "secret-not-found",
        "Secret not found",
        "Wrong secret name or region, or a friendly name that includes the random "
        "6-character suffix.",
        "Fix objectName (full ARN or exact name without the suffix) and the region.",
        _lit("ResourceNotFoundException"),
        _lit("can't find the specified secret"),
    ),
    _entry(
        6,
        "region-mismatch",
        "Region missing or not matching the ARN",
        "The SecretProviderClass region differs from the ARN's region, or no region "
        "is set and the node's region could not be read.",
        "Set the region parameter in the SecretProviderClass to the secret's region.",
        _lit("ARN region must match region"),
        _lit("failed to retrieve region from node"),
    ),
    _entry(
        8,
        "pod-identity-agent",
        "Pod Identity agent unavailable or no association",
        "The EKS Pod Identity agent add-on is missing, or there is no pod identity "
        "association for this namespace and ServiceAccount.",
        "Install the eks-pod-identity-agent add-on and create the association "
        "(cluster, namespace, ServiceAccount, role).",
        _lit("failed to get AWS config from pod identity agent"),
    ),
    _entry(
        9,
        "csidriver-token-requests",
        "CSIDriver lacks tokenRequests",
        "Provider v3 needs a ServiceAccount token for audience sts.amazonaws.com, and "
        "the CSIDriver object does not request one.",
        "Add tokenRequests (audience sts.amazonaws.com) to the secrets-store.csi.k8s.io "
        "CSIDriver, e.g. by upgrading the driver chart.",
        _lit("serviceAccount.tokens not provided"),
        _lit('token for audience "sts.amazonaws.com" not found'),
    ),
    _entry(
        10,
        "spc-not-found",
        "SecretProviderClass not found",
        "The SecretProviderClass named by the volume is in another namespace or misspelt.",
        "Make the volume's secretProviderClass attribute name the class, in the pod's namespace.",
        _seq("failed to get secretproviderclass", "not found"),
    ),
    _entry(
        11,
        "provider-not-on-node",
        "AWS provider not running on the node",
        "No AWS provider DaemonSet pod runs on the pod's node (often taints without "
        "matching tolerations).",
        "Give the provider DaemonSet tolerations for the node's taints.",
        _lit('provider not found: provider "aws"'),
    ),
    _entry(
        12,
        "driver-not-on-node",
        "CSI driver not on the node",
        "The Secrets Store CSI driver is not registered on the node, or the pod runs "
        "on Fargate, which does not support it.",
        "Install the driver DaemonSet on that node (tolerations), or move the pod off Fargate.",
        _lit(
            "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"
        ),
        _lit("Pod not supported on Fargate"),
    ),
    _entry(
        13,
        "sync-objectname-mismatch",
        "Synced Secret names a file that is not mounted",
        "secretObjects[].data[].objectName is not a mounted file name (alias or JMES "
        "alias, after path translation).",
        "Use the object's alias (objectAlias) as objectName in secretObjects.",
        _seq("file matching objectName", "not found in the pod"),
    ),
    _entry(
        14,
        "sync-rbac-forbidden",
        "Driver may not write Secrets",
        "The CSI driver was installed without Secret sync, so it lacks the RBAC to "
        "create Kubernetes Secrets.",
        "Reinstall or upgrade the driver with syncSecret.enabled=true.",
        _seq("forbidden error", "syncSecret.enabled=true"),
    ),
    _entry(
        15,
        "cross-account-resource-policy",
        "Cross-account secret without resource policy",
        "The secret lives in another account and has no resource policy allowing this role.",
        "Add a resource policy on the secret for the role, and encrypt it with a "
        "customer-managed KMS key the role may use (aws/secretsmanager cannot be shared).",
        _lit("because no resource-based policy allows the secretsmanager:GetSecretValue action"),
    ),
    _entry(
        16,
        "ssm-invalid-parameters",
        "SSM parameter missing",
        "The SSM parameter does not exist or the requested version is wrong.",
        "Fix the parameter name (and version) in objects.",
        _lit("invalid parameters:"),
    ),
    _entry(
        7,
        "fetch-failed-all-regions",
        "Secret could not be fetched",
        "No AWS error reached the pod: network or egress to Secrets Manager, "
        "credentials, or a bad jmesPath. The real cause is in the provider's log.",
        "Read the AWS provider pod's log on that node; check egress to Secrets "
        "Manager/STS and the jmesPath entries.",
        _lit("Failed to fetch secret from all regions"),
    ),
)

# Match order matters: provider errors wrap AWS errors, and entry 7 ("Failed to
# fetch secret from all regions") prefixes several of them, so the specific
# AWS texts come first and 7 is the fallback.
_MATCH_ORDER = tuple(sorted(_ENTRIES, key=lambda e: (e.number == 7, e.number != 15, e.number)))

#: Catalogue number (DOMAIN.md) -> diagnosis.
CATALOGUE: dict[int, Diagnosis] = {e.number: e.diagnosis for e in _ENTRIES}


def diagnose(message: str) -> Diagnosis | None:
    """The catalogue entry explaining ``message``, or None if it is not known."""
    if not message:
        return None
    for entry in _MATCH_ORDER:
        for pattern in entry.patterns:
            if pattern.search(message):
                return entry.diagnosis
    return None


# Findings the join detects from cluster objects alone, before any event.
SA_MISSING = Diagnosis(
    "sa-missing",
    "ServiceAccount not found",
    "The binding's ServiceAccount does not exist in the namespace, so new pods cannot be created.",
    "Apply the ServiceAccount manifest from the deploy repository (check its namespace).",
)
SA_RENAMED = Diagnosis(
    "sa-renamed",
    "ServiceAccount renamed by the kustomization",
    "The service's kustomization (or an overlay) adds a namePrefix or nameSuffix, so the "
    "pods run as a renamed ServiceAccount while the role trusts the name the request "
    "gave: no pod can assume the role.",
    "Request the access again with the kustomization's namePrefix and nameSuffix (the "
    'form\'s "The kustomization renames" section), then revoke this binding.',
)
SA_ANNOTATION_MISSING = Diagnosis(
    "sa-annotation-missing",
    "ServiceAccount has no role annotation",
    "The ServiceAccount lacks eks.amazonaws.com/role-arn, so IRSA gives the pod no role.",
    "Annotate the ServiceAccount with eks.amazonaws.com/role-arn: <the binding's role ARN>.",
)
SA_ANNOTATION_MISMATCH = Diagnosis(
    "sa-annotation-mismatch",
    "ServiceAccount annotated with another role",
    "eks.amazonaws.com/role-arn names a different role than the binding's, so pods "
    "assume a role that was not granted these secrets.",
    "Set the annotation to the binding's role ARN and restart the workload's pods.",
)
SPC_MISSING = Diagnosis(
    "spc-missing",
    "SecretProviderClass not in the namespace",
    "The binding's SecretProviderClass does not exist in the workload's namespace.",
    "Apply the SecretProviderClass manifest in that namespace (check its name and namespace).",
)
VOLUME_CLASS_MISMATCH = Diagnosis(
    "volume-class-mismatch",
    "Workload's volume names another SecretProviderClass",
    "The workload's secrets-store CSI volume sets volumeAttributes.secretProviderClass "
    "to another class than the binding's.",
    "Set volumeAttributes.secretProviderClass to the SecretProviderClass name (not the "
    "ServiceAccount name).",
)
SYNCED_SECRET_MISSING = Diagnosis(
    "synced-secret-missing",
    "Synced Kubernetes Secret missing",
    "Pods mount the volume but the Secret from secretObjects does not exist; the driver "
    "may be installed without syncSecret.enabled=true or the sync failed.",
    "Check the pods' FailedToCreateSecret events and the driver's syncSecret setting.",
)

#: Static finding code -> diagnosis.
STATIC: dict[str, Diagnosis] = {
    d.code: d
    for d in (
        SA_MISSING,
        SA_RENAMED,
        SA_ANNOTATION_MISSING,
        SA_ANNOTATION_MISMATCH,
        SPC_MISSING,
        VOLUME_CLASS_MISMATCH,
        SYNCED_SECRET_MISSING,
    )
}
