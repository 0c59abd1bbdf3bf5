"""Celery signal handlers: task outcome counters, the task id as the request
id of the task's log lines, and an optional metrics port for workers.
Imported once from SecretsAppConfig.ready()."""

from __future__ import annotations

from typing import Any

from celery.signals import (
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    task_success,
    worker_init,
)

from .logging import request_id_var
from .metrics import count_task, scrape_registry


def _name(sender: Any) -> str:
    return getattr(sender, "name", None) or str(sender)


@task_success.connect(weak=False)
def _on_success(sender: Any = None, **kwargs: Any) -> None:
    count_task(_name(sender), "success")


@task_failure.connect(weak=False)
def _on_failure(sender: Any = None, **kwargs: Any) -> None:
    count_task(_name(sender), "failure")


@task_retry.connect(weak=False)
def _on_retry(sender: Any = None, **kwargs: Any) -> None:
    count_task(_name(sender), "retry")


@task_prerun.connect(weak=False)
def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    # Lets a task's log lines be told apart (and found) like a request's.
    request_id_var.set(task_id)


@task_postrun.connect(weak=False)
def _task_finished(**kwargs: Any) -> None:
    request_id_var.set(None)


@worker_init.connect(weak=False)
def _serve_worker_metrics(**kwargs: Any) -> None:
    # Task counters live in the worker's processes, not the web's: a worker
    # serves them itself when METRICS_WORKER_PORT is set.
    from django.conf import settings

    port = getattr(settings, "METRICS_WORKER_PORT", 0)
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, registry=scrape_registry())
