"""Production reads its mail server from EMAIL_URL and refuses a Slack
webhook that is not HTTPS; the demo prints its mail."""

from __future__ import annotations

import json
import os
import subprocess

from tests.support.production import PRODUCTION_ENV
from tests.support.subprocesses import run_python

SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: getattr(settings, k) for k in "
    "('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS', 'EMAIL_HOST_USER')}))"
)


def settings_of(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL", "SLACK"))}
    clean.update(PRODUCTION_ENV, **env, DJANGO_SETTINGS_MODULE=module)
    return run_python("-c", SHOW, env=clean)


def test_production_takes_its_mail_server_from_email_url():
    result = settings_of(
        "portal.settings.production",
        EMAIL_URL="smtp+tls://portal:mail-password@smtp.example.com:587",
        SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T000/B000/XXXX",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
        "EMAIL_HOST_USER": "portal",
    }


def test_production_refuses_a_slack_webhook_over_plain_http():
    result = settings_of(
        "portal.settings.production", SLACK_WEBHOOK_URL="http://hooks.example.com/x"
    )
    assert result.returncode != 0
    assert "SLACK_WEBHOOK_URL must be an https:// URL" in result.stderr
    assert "hooks.example.com/x" not in result.stderr


def test_the_demo_prints_its_mail():
    result = settings_of("portal.settings.demo")
    assert result.returncode == 0, result.stderr
    # As plain text (secrets_app.demo.mail), not as MIME.
    assert (
        json.loads(result.stdout)["EMAIL_BACKEND"] == "secrets_app.demo.mail.PlainTextEmailBackend"
    )
