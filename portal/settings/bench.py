"""Production settings served over plain HTTP on loopback, for bench/load.py.

Everything else is production's (DEBUG off, persistent database connections,
JSON logs, the same middleware); only what needs TLS is relaxed, because the
load driver talks to gunicorn on 127.0.0.1 without a proxy in front. The
environment still has to pass production's start-up checks (SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL): bench/load.py sets them. Never
deploy with these settings.
"""

from .production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# No collectstatic for a benchmark: pages only need the static URLs, and the
# load driver fetches no static files.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
