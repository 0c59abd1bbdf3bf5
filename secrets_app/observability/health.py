"""Readiness: the database and Redis both answer, quickly. Liveness
(``/healthz``) stays in views/home.py and touches neither, so a database
outage takes pods out of the load balancer without restarting them."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse

# Probes time out after a few seconds; a hung dependency must fail before that.
REDIS_TIMEOUT_SECONDS = 1.0

log = logging.getLogger(__name__)


def check_database() -> str | None:
    """None when the database answers, else the error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means not ready
        return f"{type(error).__name__}: {error}"[:200]
    return None


def check_redis() -> str | None:
    """None when Redis (the Celery broker) answers PING, else the error."""
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:200]
    finally:
        client.close()
    return None


@login_not_required
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; 503 naming the ones that did not."""
    checks = {"database": check_database()}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Tasks run inline (the demo without Redis): nothing needs the broker.
        results = {"redis": "skipped"}
    else:
        checks["redis"] = check_redis()
        results = {}
    failed = sorted(name for name, error in checks.items() if error)
    for name in failed:
        log.warning("readiness: %s unavailable: %s", name, checks[name])
    # The endpoint is public: say which dependency failed and the error's
    # type, keep host names and messages for the log.
    results.update(
        {name: error.split(":", 1)[0] if error else "ok" for name, error in checks.items()}
    )
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed, **results}, status=503)
    return JsonResponse({"status": "ok", **results})
