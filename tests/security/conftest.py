"""The security tests' world (one of everything a URL can point at) and the
fake SSO provider."""

import pytest

from tests.security.sso_idp import idp
from tests.security.world import build_world

__all__ = ["idp"]


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
