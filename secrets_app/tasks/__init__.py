"""Celery tasks, one module per capability; importing them here lets
``autodiscover_tasks`` find them all."""

from . import provisioning  # noqa: F401
from . import health  # noqa: F401
from . import verification  # noqa: F401
