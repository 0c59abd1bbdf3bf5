"""The adapter under test, talking to moto through the recording proxy
(``tests.support.aws``, registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from secrets_app.integrations.aws import AwsAdapter, RoleSessionCache
from tests.aws.aws_fakes import RecordingProxy
from tests.aws.aws_world import REGION


@pytest.fixture(autouse=True)
def _no_real_aws(aws_env: None) -> None:
    """Dummy credentials and nothing that could reach the real AWS, for every
    test here, whether it uses moto or not."""


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
