"""What verification reads from AWS, as a protocol of its own, so that the
check modules (checks, permissions) share it without importing each other."""

from __future__ import annotations

from typing import Any, Protocol

from secrets_app.integrations.aws import (
    ClusterInfo,
    OidcProviderInfo,
    PodIdentityAssociation,
    RoleInfo,
    RolePolicy,
    SecretInfo,
)


class BindingReader(Protocol):
    """What verification needs from AWS; ``AwsAdapter`` provides it."""

    def describe_cluster(self, name: str) -> ClusterInfo: ...
    def get_oidc_provider(self, issuer: str) -> OidcProviderInfo | None: ...
    def get_role(self, name: str) -> RoleInfo: ...
    def list_role_policies(self, role_name: str) -> list[RolePolicy]: ...
    def get_managed_policy(self, arn: str, kind: Any = ...) -> RolePolicy: ...
    def describe_secret(self, secret_id: str) -> SecretInfo: ...
    def list_pod_identity_associations(
        self, cluster: str, namespace: str, service_account: str
    ) -> list[PodIdentityAssociation] | None: ...
