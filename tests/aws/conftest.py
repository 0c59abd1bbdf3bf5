"""moto in server mode on loopback, one per test session, reset before each test.

The adapter under test talks to it over HTTP through ``RecordingProxy`` (so
tests can count requests and inject faults); the tests' own set-up calls go
straight to moto with plain boto3 clients.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from secrets_app.integrations.aws import AwsAdapter, RoleSessionCache
from tests.aws.aws_fakes import RecordingProxy
from tests.aws.aws_world import REGION


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer  # heavy: only when a test needs AWS

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
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
def moto(moto_endpoint: str) -> str:
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
def make_adapter(proxy: RecordingProxy) -> Callable[..., AwsAdapter]:
    def make(**kwargs: Any) -> AwsAdapter:
        kwargs.setdefault("region", REGION)
        kwargs.setdefault("endpoint_url", proxy.url)
        kwargs.setdefault("session_cache", RoleSessionCache())
        return AwsAdapter(**kwargs)

    return make


@pytest.fixture
def adapter(make_adapter: Callable[..., AwsAdapter]) -> AwsAdapter:
    return make_adapter()
