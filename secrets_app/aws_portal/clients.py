"""One ``AwsAdapter`` per cluster account, configured from the registration
and the settings."""

from __future__ import annotations

from django.conf import settings

from secrets_app.integrations.aws import AwsAdapter
from secrets_app.models import Cluster


def adapter_for(cluster: Cluster, *, interactive: bool = False) -> AwsAdapter:
    """The adapter for ``cluster``'s account and region.

    ``interactive``: a person is waiting on the page (form lookup, picker), so
    fail fast and let them go on; tasks keep the adapter's patient defaults
    and retry themselves.
    """
    kwargs: dict = {}
    if interactive:
        kwargs = {"max_attempts": 2, "connect_timeout": 2.0, "read_timeout": 5.0}
    return AwsAdapter(
        region=cluster.region,
        role_arn=cluster.aws_role_arn or None,
        endpoint_url=settings.AWS_ENDPOINT_URL or None,
        **kwargs,
    )
