"""The inventory's fixtures: a real Celery worker for the verification and
revocation flows."""

from tests.support.celery_worker import worker  # noqa: F401 - a fixture
