"""Settings shared by every mode. Values come from the environment through
django-environ; each mode module (demo, test, production) chooses defaults
and production checks that nothing unsafe slipped through.

Secrets may also be given as files: ``SECRET_KEY_FILE=/run/secrets/key``
(the Docker/Kubernetes convention); see ``env_secret``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    return [item for item in env.list(name, default=default or []) if item]


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mozilla_django_oidc",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "secrets_app",
]

MIDDLEWARE = [
    # First, so every response (redirects, 404s, errors) gets a request id
    # and is counted in the metrics.
    "secrets_app.observability.middleware.RequestIdMiddleware",
    "secrets_app.observability.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: answers a locked-out login with its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "secrets_app.web.context_processors.roles",
                "secrets_app.web.context_processors.states",
            ],
        },
    },
]


def database(default_url: str) -> dict:
    """DATABASES from DATABASE_URL, falling back to the mode's default."""
    config = env.db("DATABASE_URL", default=default_url)
    config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    if "postgresql" in config.get("ENGINE", ""):
        # The portal's queries are short; PostgreSQL's JIT compiles the large
        # ones (deep pages of a filtered list) for ~50 ms and saves less.
        config.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    return {"default": config}


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Roles -----------------------------------------------------------------
# Requester: any logged-in user. Approver: members of this Django group
# (filled from the SSO groups claim when OIDC is on). Admin: staff.
PORTAL_APPROVER_GROUP = env.str("PORTAL_APPROVER_GROUP", default="platform")
# Only the demo settings turn this on: its stand-ins (a "terraform apply" into
# moto on merge) join the follow-ups of a new binding.
PORTAL_DEMO = False
# In the demo, an infra merge runs real Terraform against its moto when the
# binary and the provider mirror are found (secrets_app/demo/terraform.py);
# off, or without them, a Python stand-in creates the role instead.
PORTAL_DEMO_TERRAFORM = env.bool("PORTAL_DEMO_TERRAFORM", default=True)

# --- Single sign-on (mozilla-django-oidc), off unless OIDC_ENABLED ----------
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
# django-axes first: it refuses a locked-out username/address before any
# backend checks a password. SSO logins are throttled at the provider.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(1, "secrets_app.accounts.sso.GroupsClaimOIDCBackend")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env_secret("OIDC_RP_CLIENT_SECRET")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile groups")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
# Name of the claim that lists the user's groups, and which of those groups
# make an approver or an admin.
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_APPROVER_GROUPS = env_list("OIDC_APPROVER_GROUPS", default=["platform"])
OIDC_ADMIN_GROUPS = env_list("OIDC_ADMIN_GROUPS", default=["portal-admins"])
# Which other groups of the claim are teams (Django groups the provider keeps
# in step at every login): a regular expression matched against the whole name.
OIDC_TEAM_GROUPS = env.str("OIDC_TEAM_GROUPS", default=".*")
# RP-initiated logout: the provider's end_session_endpoint. When set, logging
# out of the portal after single sign-on ends the provider's session too.
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_OP_LOGOUT_URL_METHOD = "secrets_app.accounts.sso.provider_logout_url"
OIDC_STORE_ID_TOKEN = bool(OIDC_OP_LOGOUT_ENDPOINT)  # the id_token_hint of the logout

# --- Celery on Redis ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL


# --- Cache and page fragments (secrets_app/pagecache) -----------------------
# Redis, shared by every web and worker process: a sweep in a worker moves the
# generations the web processes key their fragments on. CACHE_URL may name a
# Redis of its own (with maxmemory and allkeys-lru: evicting a generation is
# safe, it restarts above any number it had); by default the broker's.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        # A Redis that hangs must not hang pages or the writes whose commit
        # moves a generation: give up quickly and serve uncached.
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }
}
# The fleet pages' middles (health dashboards, bindings list) are cached until
# a committed write touches a table they read, within the same minute.
PORTAL_PAGE_CACHE = env.bool("PORTAL_PAGE_CACHE", default=True)
PORTAL_PAGE_CACHE_ALIAS = "default"
# A fragment's key holds the minute: longer than 60 s keeps what is never read.
PORTAL_PAGE_CACHE_SECONDS = env.int("PORTAL_PAGE_CACHE_SECONDS", default=60)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a worker took but never acknowledged (the worker was killed) is
# delivered again after this many seconds; longer than any task runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # A broker host that drops packets must not hold a web request (an
    # approval enqueues its job on commit) for the OS's connect timeout;
    # what could not be enqueued is picked up by the sweepers.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0),
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Periodic jobs; each capability adds its entries below.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# Mount health: sweep every cluster every few minutes; keep two weeks of history.
HEALTH_SWEEP_MINUTES = env.int("HEALTH_SWEEP_MINUTES", default=5)
HEALTH_RETENTION_DAYS = env.int("HEALTH_RETENTION_DAYS", default=14)
# A verdict older than this (no successful sweep since) is shown as stale.
HEALTH_STALE_MINUTES = env.int("HEALTH_STALE_MINUTES", default=3 * HEALTH_SWEEP_MINUTES)
# A binding pending for this many sweeps in a row says which condition it waits for.
HEALTH_PENDING_SWEEPS = env.int("HEALTH_PENDING_SWEEPS", default=3)
# Minutes after a binding's pull requests merged during which its page shows
# "waiting for the cluster to apply" rather than drift: Argo CD and the
# Terraform pipeline need a while to apply what was merged.
PORTAL_DRIFT_GRACE_MINUTES = env.int("PORTAL_DRIFT_GRACE_MINUTES", default=15)
# Seconds a sweep waits for each answer of a cluster's API before calling
# it unreachable (per request; pages are retried once).
HEALTH_KUBE_READ_TIMEOUT = env.float("HEALTH_KUBE_READ_TIMEOUT", default=30.0)
# The namespace label whose value names the team (a group) that owns the
# namespace; the sweep reads it, an admin's owner in the portal wins over it.
PORTAL_NAMESPACE_TEAM_LABEL = env.str("PORTAL_NAMESPACE_TEAM_LABEL", default="team")
CELERY_BEAT_SCHEDULE["health-sweep-all-clusters"] = {
    "task": "secrets_app.tasks.health.sweep_all_clusters",
    "schedule": HEALTH_SWEEP_MINUTES * 60,
}
CELERY_BEAT_SCHEDULE["health-prune-snapshots"] = {
    "task": "secrets_app.tasks.health.prune_health_snapshots",
    "schedule": 3600,
}
CELERY_BEAT_SCHEDULE["requeue-stuck-requests"] = {
    "task": "secrets_app.tasks.provisioning.requeue_stuck_requests",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["expire-bindings"] = {
    # Daily: reminders 7 days and 1 day before expiry, revocation after.
    "task": "secrets_app.tasks.expiry.expire_bindings",
    "schedule": crontab(hour=env.int("PORTAL_EXPIRY_HOUR_UTC", default=6), minute=0),
}
CELERY_BEAT_SCHEDULE["poll-pull-requests"] = {
    "task": "secrets_app.tasks.provisioning.poll_pull_requests",
    "schedule": env.float("PORTAL_PR_POLL_SECONDS", default=300.0),
}
CELERY_BEAT_SCHEDULE["prune-webhook-deliveries"] = {
    "task": "secrets_app.tasks.provisioning.prune_webhook_deliveries",
    "schedule": crontab(hour=5, minute=30),
}
# Unused access: an active binding no pod mounted for this many days.
PORTAL_UNUSED_DAYS = env.int("PORTAL_UNUSED_DAYS", default=30)
# Access reviews: one opens every interval (quarterly); teams confirm their
# bindings before the deadline, reminded these many days before it; what is
# not confirmed then gets a revocation request in the portal's name.
PORTAL_REVIEW_INTERVAL_DAYS = env.int("PORTAL_REVIEW_INTERVAL_DAYS", default=91)
PORTAL_REVIEW_DEADLINE_DAYS = env.int("PORTAL_REVIEW_DEADLINE_DAYS", default=14)
PORTAL_REVIEW_REMINDER_DAYS = env.list("PORTAL_REVIEW_REMINDER_DAYS", cast=int, default=[7, 1])
CELERY_BEAT_SCHEDULE["access-reviews"] = {
    # Hourly: opens a review when due, sends reminders, acts at the deadline.
    "task": "secrets_app.tasks.reviews.run_access_reviews",
    "schedule": crontab(minute=20),
}

# --- Pull requests ------------------------------------------------------------
# Each cluster picks its backend (GitHub or local git) and may name its own
# repositories; these are the defaults. Tokens only ever come from here.
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com")
GITHUB_TOKEN = env_secret("GITHUB_TOKEN")
GITHUB_APP_ID = env.str("GITHUB_APP_ID", default="")
GITHUB_APP_PRIVATE_KEY = env_secret("GITHUB_APP_PRIVATE_KEY")
GITHUB_APP_INSTALLATION_ID = env.str("GITHUB_APP_INSTALLATION_ID", default="")
GITHUB_WEBHOOK_SECRET = env_secret("GITHUB_WEBHOOK_SECRET")
PORTAL_INFRA_REPO = env.str("PORTAL_INFRA_REPO", default="platform/kilonova")
PORTAL_DEPLOY_REPO = env.str("PORTAL_DEPLOY_REPO", default="platform/deploy")
LOCAL_REPOS_DIR = env.path("LOCAL_REPOS_DIR", default=BASE_DIR / "var" / "repos")
# Where people reach the portal, for links in pull requests.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# Retries of the pull-request task: exponential backoff with jitter, capped.
PORTAL_TASK_RETRY_BASE = env.float("PORTAL_TASK_RETRY_BASE", default=2.0)
PORTAL_TASK_RETRY_CAP = env.float("PORTAL_TASK_RETRY_CAP", default=120.0)
PORTAL_TASK_MAX_ATTEMPTS = env.int("PORTAL_TASK_MAX_ATTEMPTS", default=6)
# A request approved this long ago without a running task is enqueued again.
PORTAL_STUCK_MINUTES = env.int("PORTAL_STUCK_MINUTES", default=10)

# --- Notifications -------------------------------------------------------------
# Email through Django's email backend (each mode picks it), and Slack through
# an incoming webhook: the URL is a credential (never logged), blank = no Slack.
NOTIFICATIONS_ENABLED = env.bool("NOTIFICATIONS_ENABLED", default=True)
SLACK_WEBHOOK_URL = env_secret("SLACK_WEBHOOK_URL")
SLACK_TIMEOUT_SECONDS = env.float("SLACK_TIMEOUT_SECONDS", default=5.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="secrets-portal@localhost")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# A binding failing this long is reported to its owner, once per episode.
NOTIFY_FAILING_AFTER_MINUTES = env.int("NOTIFY_FAILING_AFTER_MINUTES", default=30)
# Sending retries: exponential backoff with full jitter, capped; tries per message.
NOTIFY_RETRY_BASE = env.float("NOTIFY_RETRY_BASE", default=5.0)
NOTIFY_RETRY_CAP = env.float("NOTIFY_RETRY_CAP", default=300.0)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
CELERY_BEAT_SCHEDULE["notifications-resend-pending"] = {
    "task": "secrets_app.tasks.notifications.resend_pending_notifications",
    "schedule": 180.0,
}
CELERY_BEAT_SCHEDULE["notifications-failing-bindings"] = {
    "task": "secrets_app.tasks.notifications.notify_failing_bindings",
    "schedule": 120.0,
}

# --- AWS ------------------------------------------------------------------------
# boto3 endpoint override (moto in tests and the demo); blank: the real AWS.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
# Look secrets up in Secrets Manager (metadata only) while the request form is
# filled in; off where no AWS can be reached.
PORTAL_AWS_LOOKUP = env.bool("PORTAL_AWS_LOOKUP", default=True)
# Each health sweep compares the versions pods mount with each secret's
# AWSCURRENT (ListSecrets / DescribeSecret: metadata only); pods still on an
# old version this long after the rotation make the binding "stale".
PORTAL_ROTATION_CHECK = env.bool("PORTAL_ROTATION_CHECK", default=True)
PORTAL_STALE_GRACE_MINUTES = env.int("PORTAL_STALE_GRACE_MINUTES", default=30)
# Cluster readiness (health/readiness.py): where the Secrets Store CSI driver
# and the AWS provider DaemonSets run, and how Stakater Reloader is found.
PORTAL_DRIVER_NAMESPACE = env.str("PORTAL_DRIVER_NAMESPACE", default="kube-system")
PORTAL_RELOADER_SELECTOR = env.str("PORTAL_RELOADER_SELECTOR", default="app=reloader")

# --- Security headers (django-csp 3.x) ---------------------------------------
# Everything is served by the portal itself: no CDN, no inline script.
CSP_DEFAULT_SRC = ("'self'",)
CSP_SCRIPT_SRC = ("'self'",)
CSP_STYLE_SRC = ("'self'",)
CSP_IMG_SRC = ("'self'", "data:")
CSP_FRAME_ANCESTORS = ("'none'",)
CSP_FORM_ACTION = ("'self'",)
if OIDC_OP_LOGOUT_ENDPOINT:
    # The logout form's answer redirects to the provider's end-session page,
    # and browsers hold that redirect to form-action too.
    _end_session = urlsplit(OIDC_OP_LOGOUT_ENDPOINT)
    CSP_FORM_ACTION = (*CSP_FORM_ACTION, f"{_end_session.scheme}://{_end_session.netloc}")
# Not covered by default-src: no <base> pointing elsewhere, no plugins.
CSP_BASE_URI = ("'self'",)
CSP_OBJECT_SRC = ("'none'",)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database (Django's default), not cached_db: with
# cached_db a Redis outage fails every page (it re-caches a session read from
# the database without catching the error), for a saving of one short query.

# --- Login throttling (django-axes) ------------------------------------------
# LOGIN_FAILURE_LIMIT failed passwords for one username from one address lock
# that pair out for LOGIN_COOLOFF_MINUTES; a successful login resets the count.
# Locking the pair, not the address alone, keeps one user's typos (or an
# attacker) from locking out everyone behind the same proxy (the address is
# the peer's: behind a load balancer the pair is in effect the username).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("LOGIN_COOLOFF_MINUTES", default=15) / 60  # hours (a float)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Secrets Access Portal API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "DESCRIPTION": "Token (`Authorization: Token <key>`, see `manage.py create_api_token`) "
    "or session authentication; every endpoint needs one.",
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "secrets_app.api.schema.add_unauthorized",
        "secrets_app.api.schema.add_unknown_parameters",
        "secrets_app.api.schema.close_inputs",
    ],
    # Swagger UI from the portal's own static files: the CSP allows no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RequestStateEnum": "secrets_app.models.RequestState",
        "BindingStateEnum": "secrets_app.models.BindingState",
        "HealthStatusEnum": "secrets_app.models.HealthStatus",
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

# --- Operations ----------------------------------------------------------------
# /metrics: public only when METRICS_PUBLIC; otherwise a bearer token or staff.
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=False)
METRICS_TOKEN = env_secret("METRICS_TOKEN")
# Celery workers serve their task counters on this port (0: off).
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
# Logs: "plain" lines or one JSON object per line (production's default); both
# carry the request id and pass the redaction filter, which masks secrets.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
# The worker logs through LOGGING below (request ids, redaction, JSON), not
# through Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "secrets_app.observability.logging.RequestIdFilter"},
        "redact": {"()": "secrets_app.observability.logging.RedactionFilter"},
    },
    "formatters": {
        "plain": {
            "()": "secrets_app.observability.logging.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "secrets_app.observability.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "werkzeug": {"level": "WARNING"},
        # django-axes logs every login at INFO (usernames masked, so of little
        # use); lockouts come at WARNING.
        "axes": {"level": "WARNING"},
    },
}
