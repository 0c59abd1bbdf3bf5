"""The single sign-on settings as production reads them from the environment."""

from __future__ import annotations

import json
import os

from django.conf import settings

from tests.support.production import PRODUCTION_ENV
from tests.support.subprocesses import run_python

OIDC_ENV = {
    "OIDC_ENABLED": "true",
    "OIDC_RP_CLIENT_ID": "portal",
    "OIDC_RP_CLIENT_SECRET": "a-client-secret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://idp.example.com/token",
    "OIDC_OP_USER_ENDPOINT": "https://idp.example.com/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://idp.example.com/jwks",
}
SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n) for n in"
    " ['OIDC_TEAM_GROUPS', 'OIDC_APPROVER_GROUPS', 'OIDC_ADMIN_GROUPS', 'OIDC_STORE_ID_TOKEN',"
    " 'CSP_FORM_ACTION', 'AUTHENTICATION_BACKENDS']}))"
)


def production_env(**env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and not k.startswith("OIDC") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return {
        **clean,
        **PRODUCTION_ENV,
        **OIDC_ENV,
        **env,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    }


def production_settings(**env: str) -> dict:
    result = run_python("manage.py", "shell", "-c", SHOW, env=production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults():
    # The test settings take base's defaults (no OIDC_* in the environment).
    assert settings.OIDC_TEAM_GROUPS == ".*"
    assert settings.OIDC_APPROVER_GROUPS == ["platform"]
    assert settings.OIDC_ADMIN_GROUPS == ["portal-admins"]
    # No end-session endpoint: no id token kept, forms post to the portal only.
    assert settings.OIDC_STORE_ID_TOKEN is False
    assert tuple(settings.CSP_FORM_ACTION) == ("'self'",)


def test_from_the_environment():
    found = production_settings(
        OIDC_TEAM_GROUPS="team-[a-z-]+",
        OIDC_APPROVER_GROUPS="platform-approvers,security",
        OIDC_ADMIN_GROUPS="portal-admins",
        OIDC_OP_LOGOUT_ENDPOINT="https://idp.example.com/oauth2/logout",
    )
    assert found["OIDC_TEAM_GROUPS"] == "team-[a-z-]+"
    assert found["OIDC_APPROVER_GROUPS"] == ["platform-approvers", "security"]
    assert found["OIDC_STORE_ID_TOKEN"] is True
    assert "secrets_app.accounts.sso.GroupsClaimOIDCBackend" in found["AUTHENTICATION_BACKENDS"]
    assert found["CSP_FORM_ACTION"] == ["'self'", "https://idp.example.com"]


def test_a_team_pattern_that_is_no_regular_expression_stops_production():
    result = run_python("manage.py", "check", env=production_env(OIDC_TEAM_GROUPS="team-("))
    assert result.returncode != 0
    assert "OIDC_TEAM_GROUPS is not a regular expression" in result.stderr
