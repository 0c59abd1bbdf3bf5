"""The portal's AWS services: secret lookup for the request form, cluster
registration from EKS, post-merge verification of bindings, and what AWS
still holds of a binding being revoked.

Django lives here, botocore does not: every AWS call goes through
``integrations.aws.AwsAdapter`` (metadata only; it refuses to read values).
"""

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.aws_portal.clusters import (
    ClusterReport,
    cluster_fill_oidc_issuer,
    cluster_refresh_from_aws,
)
from secrets_app.aws_portal.lookup import lookup_secrets
from secrets_app.aws_portal.picker import Picked, pick_secrets
from secrets_app.aws_portal.removal import aws_leftovers
from secrets_app.aws_portal.verify import (
    expected_binding,
    verify_binding_now,
    verify_run_finish,
    verify_run_start,
)

__all__ = [
    "ClusterReport",
    "Picked",
    "adapter_for",
    "aws_leftovers",
    "cluster_fill_oidc_issuer",
    "cluster_refresh_from_aws",
    "expected_binding",
    "lookup_secrets",
    "pick_secrets",
    "verify_binding_now",
    "verify_run_finish",
    "verify_run_start",
]
