"""The portal's AWS pages and tasks against moto (``tests.support.aws``):
moto behind the recording proxy, a cluster registered in moto's account
(``moto_cluster``) and settings pointing the portal at the proxy
(``portal_aws``, which checks after each test that no value was read).
Every test here runs with dummy credentials and nothing that could reach
the real AWS."""

from __future__ import annotations

import pytest

from tests.support.aws import (
    aws_env,
    clients,
    moto,
    moto_cluster,
    moto_endpoint,
    portal_aws,
    proxy,
)

__all__ = ["aws_env", "clients", "moto", "moto_cluster", "moto_endpoint", "portal_aws", "proxy"]


@pytest.fixture(autouse=True)
def _no_real_aws(aws_env: None) -> None:
    """``aws_env`` for every test here, whether it uses moto or not."""
