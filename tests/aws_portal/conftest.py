"""The AWS fixtures of ``tests/aws`` (moto in server mode, reset per test,
the recording proxy, dummy credentials) reused for the portal's AWS pages,
plus a cluster registered in moto's account and settings pointing at the
proxy (``portal_aws``), which checks after each test that no value was read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.aws import conftest as _aws
from tests.aws.aws_world import ACCOUNT, CLUSTER, REGION
from tests.factories import ClusterFactory

moto_endpoint = _aws.moto_endpoint
aws_env = _aws.aws_env  # autouse here too: no real AWS, dummy keys
moto = _aws.moto
clients = _aws.clients
proxy = _aws.proxy

VALUE_READS = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"}


@pytest.fixture
def portal_aws(settings: Any, proxy: Any) -> Iterator[Any]:
    """The portal's adapters go to moto through the recording proxy; after
    the test, whatever the portal did, no secret value was asked for."""
    settings.AWS_ENDPOINT_URL = proxy.url
    settings.PORTAL_AWS_LOOKUP = True
    yield proxy
    sent = proxy.operations()
    assert not VALUE_READS & set(sent), sent


@pytest.fixture
def moto_cluster(db: Any) -> Any:
    """A cluster registered in moto's account and region (EKS not created;
    tests that need it create it and set the issuer it reports)."""
    return ClusterFactory(
        name=CLUSTER,
        aws_account_id=ACCOUNT,
        region=REGION,
        oidc_issuer=f"oidc.eks.{REGION}.amazonaws.com/id/REGISTERED0",
        identity_mode="irsa",
    )
