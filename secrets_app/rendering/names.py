"""Every name a binding uses, derived once from the spec.

The namespace, ServiceAccount, SecretProviderClass, role and policy names,
Secret names and keys and env vars must agree across two repositories; the
renderers read them from ``BindingNames`` and never rebuild them.

IAM role name (default): ``<cluster>_<namespace>_<service>``. Role names are
unique per account, and one account can hold several clusters, each with the
same namespace and service names, so all three go in. Namespaces and services
are DNS labels, which never contain ``_``, so splitting at the last two ``_``
recovers the parts (only the cluster name may hold ``_``): two different
bindings never get one name. (IAM ignores case in role names; EKS cluster
names differing only in case in one account would collide.)
When it is longer than IAM's 64 characters it is cut and ends with ``-`` and 8
hex characters of the SHA-256 of the full name, which keeps it stable and
(with overwhelming probability) unique. An explicit ``role_name`` wins.

Policy name (default): ``<role name>-secrets-read``. The policy exists only
for this role, and since the role name is already unique in the account, so
is this; the shared stem lets an operator go from one to the other, the
suffix says what it grants, and 64 + 13 characters stay far below IAM's 128.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from secrets_app.rendering import name_rules
from secrets_app.rendering.spec import BindingSpec

CSI_VOLUME_NAME = "secrets-store-inline"
CSI_DRIVER = "secrets-store.csi.k8s.io"
POLICY_SUFFIX = "-secrets-read"
_HASH_LEN = 8
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_-]")


def default_role_name(cluster: str, namespace: str, service: str) -> str:
    full = f"{cluster}_{namespace}_{service}"
    return shorten(full, name_rules.MAX_ROLE_NAME)


def shorten(name: str, limit: int) -> str:
    """``name`` itself if it fits, else a prefix plus a stable 8-hex hash of it."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LEN]
    return f"{name[: limit - _HASH_LEN - 1]}-{digest}"


def terraform_label(role_name: str) -> str:
    """A Terraform block label for this binding's resources.

    All .tf files of one account/cluster share a directory (one module), so
    labels must differ between bindings: they come from the role name, which
    is unique in the account. Characters outside ``[A-Za-z0-9_-]`` become
    ``_``; when that changed anything a hash of the role name keeps two
    different roles apart.
    """
    label = _NOT_IDENTIFIER.sub("_", role_name)
    if label != role_name:
        label += "_" + hashlib.sha256(role_name.encode()).hexdigest()[:_HASH_LEN]
    return f"secrets_{label}"


@dataclass(frozen=True)
class SyncedKey:
    secret_name: str
    key: str
    object: str
    env: str | None


@dataclass(frozen=True)
class BindingNames:
    namespace: str
    # The names in the cluster, after kustomize's namePrefix/nameSuffix: what
    # the trust policy, the Pod Identity association and the health sweep use.
    service_account: str
    secret_provider_class: str
    role_name: str
    role_arn: str
    policy_name: str
    policy_arn: str
    oidc_provider_arn: str | None
    eks_cluster_arn: str
    tf_label: str
    volume_name: str
    workload_kind: str
    workload_name: str
    containers: tuple[str, ...]
    mount_path: str
    synced_keys: tuple[SyncedKey, ...]
    # The same names as the Component's files write them: kustomize adds the
    # prefix and suffix when it builds (and renames every reference).
    component_service_account: str
    component_class: str
    component_workload: str
    # Stakater Reloader's annotation value (the synced Secrets) or None.
    reload_secrets: str | None = None

    @property
    def secret_names(self) -> tuple[str, ...]:
        """Kubernetes Secrets the driver syncs, in spec order, without repeats."""
        return tuple(dict.fromkeys(k.secret_name for k in self.synced_keys))

    @property
    def env_vars(self) -> tuple[SyncedKey, ...]:
        return tuple(k for k in self.synced_keys if k.env)

    @classmethod
    def from_spec(cls, spec: BindingSpec) -> BindingNames:
        c = spec.cluster
        role_name = spec.role_name or default_role_name(c.name, spec.namespace, spec.service)
        policy_name = shorten(role_name + POLICY_SUFFIX, name_rules.MAX_POLICY_NAME)
        iam = f"arn:{c.partition}:iam::{c.account_id}"
        service_account = spec.service_account or name_rules.default_service_account(spec.service)

        def built(name: str) -> str:
            return name_rules.built_name(spec.name_prefix, name, spec.name_suffix)

        return cls(
            namespace=spec.namespace,
            service_account=built(service_account),
            # The guide names the class like the ServiceAccount (<service>-secrets
            # by default); one name per binding also keeps two bindings of one
            # service in a namespace from claiming the same class.
            secret_provider_class=built(service_account),
            role_name=role_name,
            role_arn=f"{iam}:role/{role_name}",
            policy_name=policy_name,
            policy_arn=f"{iam}:policy/{policy_name}",
            oidc_provider_arn=(f"{iam}:oidc-provider/{c.oidc_issuer}" if c.oidc_issuer else None),
            eks_cluster_arn=f"arn:{c.partition}:eks:{c.region}:{c.account_id}:cluster/{c.name}",
            tf_label=terraform_label(role_name),
            volume_name=CSI_VOLUME_NAME,
            workload_kind=spec.workload.kind,
            workload_name=built(spec.workload.name),
            containers=spec.workload.containers,
            mount_path=spec.mount_path,
            synced_keys=tuple(
                SyncedKey(s.sync.secret_name, k.key, k.object, k.env)
                for s in spec.secrets
                if s.sync is not None
                for k in s.sync.keys
            ),
            component_service_account=service_account,
            component_class=service_account,
            component_workload=spec.workload.name,
            reload_secrets=(
                ",".join(dict.fromkeys(s.sync.secret_name for s in spec.secrets if s.sync))
                if spec.workload.restart_on_change
                else None
            ),
        )
