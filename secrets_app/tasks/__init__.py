"""Celery tasks, one module per capability; importing them here lets
``autodiscover_tasks`` find them all."""
