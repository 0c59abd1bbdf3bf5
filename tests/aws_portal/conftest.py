"""The AWS fixtures of ``tests/aws`` (moto in server mode, reset per test,
the recording proxy, dummy credentials) reused for the portal's AWS pages,
plus a cluster registered in moto's account and settings pointing at the
proxy (``portal_aws``), which checks after each test that no value was read."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

AWS_TESTS = Path(__file__).resolve().parent.parent / "aws"
if str(AWS_TESTS) not in sys.path:
    sys.path.insert(0, str(AWS_TESTS))  # aws_fakes, aws_world


def _load_aws_conftest() -> Any:
    # Loaded under its own name: "conftest" is taken by whichever ran first.
    spec = importlib.util.spec_from_file_location("tests_aws_conftest", AWS_TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_aws = _load_aws_conftest()
moto_endpoint = _aws.moto_endpoint
aws_env = _aws.aws_env  # autouse here too: no real AWS, dummy keys
moto = _aws.moto
clients = _aws.clients
proxy = _aws.proxy

from aws_world import ACCOUNT, CLUSTER, REGION  # noqa: E402

from tests.factories import ClusterFactory  # noqa: E402

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
