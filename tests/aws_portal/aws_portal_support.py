"""A portal binding for the guide's example as built in moto by ``aws_world``."""

from __future__ import annotations

from secrets_app.models import Binding
from tests.aws.aws_world import ACCOUNT, NAMESPACE, ROLE, SECRET, SERVICE_ACCOUNT
from tests.factories import AccessRequestFactory, BindingFactory, SecretGrantFactory

SERVICE = "data-access-service"


def guide_binding(cluster, world) -> Binding:
    """The active binding of a merged request for ``world``'s secret."""
    cluster.oidc_issuer = world.issuer
    cluster.save(update_fields=["oidc_issuer"])
    request = AccessRequestFactory(
        cluster=cluster,
        service=SERVICE,
        namespace=NAMESPACE,
        service_account=SERVICE_ACCOUNT,
        role_name=ROLE,
        state="active",
    )
    SecretGrantFactory(
        request=request,
        secret=world.secret_arn,
        alias=SECRET,
        kms_key_arn=world.kms_key_arn or "",
    )
    return BindingFactory(
        request=request,
        cluster=cluster,
        namespace=NAMESPACE,
        service=SERVICE,
        service_account=SERVICE_ACCOUNT,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
    )
