"""Helpers of the notification tests: Celery's broker made unreachable, the
notifications recorded and sending them, requests and bindings to notify
about."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction

from portal.celery import app as celery_app
from secrets_app.models import Binding, Notification
from secrets_app.notifications import notification_send
from tests.factories import AccessRequestFactory, BindingFactory, SecretGrantFactory

BASE_URL = "https://portal.example.com"


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
