"""Production settings: every required value comes from the environment, and
start-up fails, naming each problem, when one is missing or unsafe."""

import re

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    ALLOWED_HOSTS,
    DEBUG,
    OIDC_ENABLED,
    OIDC_TEAM_GROUPS,
    REDIS_URL,
    SECRET_KEY,
    SLACK_WEBHOOK_URL,
    database,
    env,
    env_secret,
)

# No default: production names its database explicitly.
DATABASES = database("") if env.str("DATABASE_URL", default="") else {"default": {}}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Probes and in-cluster scrapes speak plain HTTP to the pod.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# One JSON object per log line unless LOG_FORMAT says otherwise.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
# Notification email: EMAIL_URL (or EMAIL_URL_FILE), django-environ's form,
# e.g. smtp+tls://user:password@smtp.example.com:587 or consolemail://;
# otherwise SMTP on EMAIL_HOST/EMAIL_PORT (Django's defaults: localhost:25).
if env_secret("EMAIL_URL"):
    globals().update(env.email_url_config(env_secret("EMAIL_URL")))
else:
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def settings_problems() -> list[str]:
    """Everything wrong with the environment, so one start-up names it all."""
    problems = []
    if DEBUG:
        problems.append("DEBUG must be false in production.")
    if not SECRET_KEY:
        problems.append("SECRET_KEY (or SECRET_KEY_FILE) is required.")
    elif len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or "insecure" in SECRET_KEY:
        problems.append("SECRET_KEY is unsafe: use at least 50 random characters.")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is required (comma-separated host names).")
    elif "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS may not contain '*'.")
    engine = DATABASES["default"].get("ENGINE", "")
    if not engine:
        problems.append("DATABASE_URL is required (postgres://user:password@host:5432/name).")
    elif "postgresql" not in engine:
        problems.append("DATABASE_URL must point at PostgreSQL in production.")
    if not REDIS_URL.startswith(("redis://", "rediss://")):
        problems.append("REDIS_URL must be a redis:// or rediss:// URL.")
    if SLACK_WEBHOOK_URL and not SLACK_WEBHOOK_URL.startswith("https://"):
        problems.append("SLACK_WEBHOOK_URL must be an https:// URL (or blank: no Slack).")
    if LOG_FORMAT not in ("json", "plain"):
        problems.append("LOG_FORMAT must be json or plain.")
    if OIDC_ENABLED:
        for name in (
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        ):
            if not globals().get(name):
                problems.append(f"{name} is required when OIDC_ENABLED is true.")
        try:
            re.compile(OIDC_TEAM_GROUPS)
        except re.error as error:
            problems.append(f"OIDC_TEAM_GROUPS is not a regular expression: {error}.")
    return problems


_problems = settings_problems()
if _problems:
    raise ImproperlyConfigured(
        "Production settings are incomplete:\n" + "\n".join(f"  - {p}" for p in _problems)
    )
