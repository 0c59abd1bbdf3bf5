"""AWS for the tests: moto in server mode on loopback (one per session,
reset before each test), reached by the code under test through the
recording proxy of ``tests.aws.aws_fakes`` (so tests can count requests and
inject faults), and by the tests' own set-up calls directly; plus the
portal's side of it, a cluster registered in moto's account and settings
that send the portal's AWS calls through the proxy.

Every test that uses moto runs with dummy credentials and nothing that
could reach the real AWS (``aws_env``, which ``moto`` asks for)."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from django.core.cache import cache

from secrets_app.models import Cluster
from tests.aws.aws_fakes import RecordingProxy
from tests.aws.aws_world import ACCOUNT, CLUSTER, REGION
from tests.factories import ClusterFactory, NamespaceFactory, TeamFactory

VALUE_READS = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer  # heavy: only when a test needs AWS

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Dummy credentials for the default chain, and nothing that could reach
    the real AWS or the instance metadata service."""
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))


@pytest.fixture
def moto(moto_endpoint: str, aws_env: None) -> str:
    """moto's endpoint, reset: no resource left by an earlier test."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return moto_endpoint


@pytest.fixture
def clients(moto: str) -> Callable[[str], Any]:
    """Set-up clients, straight to moto (not recorded)."""
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(service, endpoint_url=moto, region_name=REGION)
        return made[service]

    return client


@pytest.fixture
def proxy(moto: str) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(moto).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def portal_aws(settings: Any, proxy: RecordingProxy) -> Iterator[RecordingProxy]:
    """The portal's adapters go to moto through the recording proxy; after
    the test, whatever the portal did, no secret value was asked for."""
    settings.AWS_ENDPOINT_URL = proxy.url
    settings.PORTAL_AWS_LOOKUP = True
    # The picker caches each account's list: none from an earlier test.
    cache.clear()
    yield proxy
    sent = proxy.operations()
    assert not VALUE_READS & set(sent), sent


@pytest.fixture
def moto_cluster(db: Any) -> Cluster:
    """A cluster registered in moto's account and region (EKS not created;
    tests that need it create it and set the issuer it reports)."""
    cluster = ClusterFactory(
        name=CLUSTER,
        aws_account_id=ACCOUNT,
        region=REGION,
        oidc_issuer=f"oidc.eks.{REGION}.amazonaws.com/id/REGISTERED0",
        identity_mode="irsa",
    )
    # The same world as the ``cluster`` fixture: team-deploy owns "deploy".
    NamespaceFactory(cluster=cluster, name="deploy", team=TeamFactory(name="team-deploy"))
    return cluster
