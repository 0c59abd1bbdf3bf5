"""The portal's AWS pages and tasks against moto (``tests.support.aws``,
registered in tests/conftest.py): moto behind the recording proxy, a
cluster registered in moto's account (``moto_cluster``) and settings
pointing the portal at the proxy (``portal_aws``, which checks after each
test that no value was read)."""

import pytest


@pytest.fixture(autouse=True)
def _no_real_aws(aws_env: None) -> None:
    """Dummy credentials and nothing that could reach the real AWS, for every
    test here, whether it uses moto or not."""
