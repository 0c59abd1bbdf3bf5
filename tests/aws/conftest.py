"""moto and the recording proxy (``tests.support.aws``), and the adapter
under test talking to moto through the proxy. Every test here runs with
dummy credentials and nothing that could reach the real AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from secrets_app.integrations.aws import AwsAdapter, RoleSessionCache
from tests.aws.aws_fakes import RecordingProxy
from tests.aws.aws_world import REGION
from tests.support.aws import aws_env, clients, moto, moto_endpoint, proxy

__all__ = ["aws_env", "clients", "moto", "moto_endpoint", "proxy"]


@pytest.fixture(autouse=True)
def _no_real_aws(aws_env: None) -> None:
    """``aws_env`` for every test here, whether it uses moto or not."""


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
