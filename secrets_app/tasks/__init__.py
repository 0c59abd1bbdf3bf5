"""Celery tasks, one module per capability; importing them here lets
``autodiscover_tasks`` find them all (and registers their workflow hooks)."""

from . import expiry, health, imports, notifications, provisioning, verification  # noqa: F401
