"""pytest settings: PostgreSQL on 127.0.0.1 (CI and developer machines run
one with trust auth), real Redis, fast password hashing."""

from .base import *  # noqa: F403
from .base import database, env

DEBUG = False
SECRET_KEY = "test-only-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# DATABASE_URL / REDIS_URL let parallel runs use their own test database and
# Redis database (test_<name> is created by pytest-django).
DATABASES = database("postgres://postgres@127.0.0.1:5432/portal")
DATABASES["default"]["CONN_MAX_AGE"] = 0
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
# The tests' own Redis database. (A test database is migrated afresh: its
# DDL moves every page-cache generation, so no earlier run's fragment matches.)
CACHES["default"]["LOCATION"] = env.str("CACHE_URL", default=REDIS_URL)  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"portal-test-{DATABASES['default']['NAME']}"  # noqa: F405
# No AWS lookups from the request form unless a test turns them on.
PORTAL_AWS_LOOKUP = False
# No AWS to ask unless a test starts moto and turns it on.
PORTAL_ROTATION_CHECK = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files straight from the source folders: no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Nothing in the tests may leave loopback: services a test does not stand up
# point at a closed local port (connection refused at once), and tests that
# need AWS or GitHub point these at their loopback fakes.
CLOSED_LOOPBACK = "http://127.0.0.1:9"
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default=CLOSED_LOOPBACK)
GITHUB_API_URL = CLOSED_LOOPBACK + "/api/v3"
