"""Notifications: the settings every test here runs with, a loopback Slack
webhook and on-commit callbacks run on demand (tests that need a real
Celery worker ask for ``worker``, from tests/conftest.py)."""

from __future__ import annotations

import pytest

from fakes.slack_webhook import FakeSlackWebhook
from tests.notifications.notifications_support import BASE_URL


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
