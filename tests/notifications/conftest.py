"""Notifications: a loopback Slack webhook, a real Celery worker on Redis
when a test needs one, and helpers to send what was recorded."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import transaction

from fakes.slack_webhook import FakeSlackWebhook
from portal.celery import app as celery_app
from secrets_app.models import Binding, Notification
from secrets_app.notifications import notification_send
from tests.factories import AccessRequestFactory, BindingFactory, SecretGrantFactory
from tests.support.celery_worker import worker  # noqa: F401 - a fixture

BASE_URL = "https://portal.example.com"


@pytest.fixture(autouse=True)
def notify_settings(settings):
    settings.PORTAL_BASE_URL = BASE_URL
    settings.NOTIFICATIONS_ENABLED = True
    settings.SLACK_WEBHOOK_URL = ""
    settings.NOTIFY_RETRY_BASE = 0.05
    settings.NOTIFY_RETRY_CAP = 0.2
    settings.NOTIFY_MAX_ATTEMPTS = 4
    return settings


@pytest.fixture
def slack(settings):
    with FakeSlackWebhook() as fake:
        settings.SLACK_WEBHOOK_URL = fake.url
        settings.SLACK_TIMEOUT_SECONDS = 0.5
        yield fake


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks of the block, as its commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@contextmanager
def broker_unreachable():
    """Point Celery's producers at a closed port, as if Redis were down."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_publish_retry_policy

    def reset_pools():
        # Celery caches its connection and producer pools per app.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url = "redis://127.0.0.1:9/0"
    conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    reset_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_publish_retry_policy = saved
        reset_pools()


def send_pending() -> list[str]:
    """Send every pending notification once, as the task would (no worker)."""
    pending = Notification.objects.filter(state=Notification.State.PENDING).order_by("pk")
    return [notification_send(pk).state for pk in pending.values_list("pk", flat=True)]


def rows(**filters) -> list[Notification]:
    return list(Notification.objects.filter(**filters).order_by("pk"))


def make_request(cluster, requester, **fields):
    request = AccessRequestFactory(cluster=cluster, requester=requester, **fields)
    SecretGrantFactory(request=request)
    return request


def make_binding(cluster, **fields) -> Binding:
    """The guide's data-access-service binding in ``cluster``, with no role."""
    return BindingFactory(
        cluster=cluster, **{"service": "data-access-service", "role_arn": "", **fields}
    )


def in_transaction(func, **kwargs):
    with transaction.atomic():
        return func(**kwargs)
