"""The security tests' world (one of everything a URL can point at), the
fake SSO provider, and for the leak check (``tests.support``) a real Celery
worker and moto behind the recording proxy."""

import pytest

from tests.security.sso_idp import idp
from tests.security.world import build_world
from tests.support.aws import aws_env, clients, moto, moto_endpoint, proxy
from tests.support.celery_worker import worker

__all__ = ["aws_env", "clients", "idp", "moto", "moto_endpoint", "proxy", "worker"]


@pytest.fixture
def world(requester, other_user, approver, admin_user, cluster, settings, tmp_path):
    # The demo's merge button works on local repositories: keep them here.
    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    return build_world(
        requester=requester,
        other_user=other_user,
        approver=approver,
        admin_user=admin_user,
        cluster=cluster,
    )
