"""Production settings refuse to start with a missing or unsafe value, naming
it; the OIDC groups claim maps to roles."""

import os
import subprocess

import pytest

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.accounts.sso import apply_group_claims
from tests.support.production import PRODUCTION_ENV
from tests.support.subprocesses import run_python


def run_check(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and not k.startswith("OIDC") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="portal.settings.production")
    return run_python("manage.py", "check", *args, env=clean)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY (or SECRET_KEY_FILE) is required"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is unsafe"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY is unsafe"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is required"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS may not contain '*'"),
        ({"DATABASE_URL": ""}, "DATABASE_URL is required"),
        ({"DATABASE_URL": "sqlite:////tmp/x.db"}, "must point at PostgreSQL"),
        ({"DEBUG": "true"}, "DEBUG must be false"),
        ({"OIDC_ENABLED": "true"}, "OIDC_RP_CLIENT_ID is required when OIDC_ENABLED"),
    ],
)
def test_production_refuses_unsafe_settings(change, message):
    result = run_check({**PRODUCTION_ENV, **change})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_names_every_problem_at_once():
    result = run_check({})
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"):
        assert name in result.stderr


def test_production_deploy_check_is_clean():
    result = run_check(PRODUCTION_ENV, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(PRODUCTION_ENV["SECRET_KEY"] + "\n")
    env = {**PRODUCTION_ENV, "SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file)}
    assert run_check(env).returncode == 0


@pytest.mark.django_db
def test_groups_claim_maps_to_roles(settings, requester):
    settings.OIDC_APPROVER_GROUPS = ["platform-team"]
    settings.OIDC_ADMIN_GROUPS = ["portal-admins"]
    user_model = type(requester)
    apply_group_claims(requester, {"groups": ["platform-team", "portal-admins"]})
    fresh = user_model.objects.get(pk=requester.pk)
    assert is_approver(fresh) and is_admin(fresh)
    apply_group_claims(fresh, {"groups": ["engineers"]})
    fresh = user_model.objects.get(pk=requester.pk)
    assert not is_approver(fresh) and not is_admin(fresh)


@pytest.mark.django_db
def test_sso_routes_are_public_when_enabled_and_absent_otherwise(settings, client):
    assert client.get("/oidc/authenticate/").status_code == 404
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "portal"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example.com/authorize"
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.example.com/authorize?")
    assert "single sign-on" in client.get("/accounts/login/").content.decode()
