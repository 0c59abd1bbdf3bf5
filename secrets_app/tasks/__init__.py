"""Celery tasks, one module per capability; importing them here lets
``autodiscover_tasks`` find them all. What enqueues them after a change
commits is in ``events.followups``."""

from . import (  # noqa: F401
    expiry,
    health,
    imports,
    notifications,
    provisioning,
    removal,
    reviews,
    upgrades,
    verification,
)
