"""The one-command demo: embedded defaults, a SQLite file, DEBUG on.

Never use these settings for a real deployment: the secret key is public.
"""

from .base import *  # noqa: F403
from .base import BASE_DIR, database, env, env_list, env_secret

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env_secret("SECRET_KEY") or "demo-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
DATABASES = database("sqlite:///" + str(BASE_DIR / "var" / "demo.sqlite3"))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web process and the demo's worker share the file: wait for locks
    # instead of failing, and take the write lock when a transaction starts.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    )
PORTAL_DEMO = True
# Where the demo keeps its git repositories and beat schedule.
PORTAL_DEMO_DIR = env.path("PORTAL_DEMO_DIR", default=BASE_DIR / "var" / "demo")
# Notifications are printed by the process that sends them (the worker, or
# the web process in eager mode) instead of being mailed, as plain text; the
# worker prints to its stdout instead of logging each line as a WARNING.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="secrets_app.demo.mail.PlainTextEmailBackend")
CELERY_WORKER_REDIRECT_STDOUTS = False
# The story rotates one secret as the demo starts (demo/versions.py): its
# binding reads "stale" two minutes later instead of half an hour.
PORTAL_STALE_GRACE_MINUTES = env.int("PORTAL_STALE_GRACE_MINUTES", default=2)

# Static files straight from the source folders: no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
