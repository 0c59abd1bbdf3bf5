"""A real Celery worker on the test Redis, running in this process, and that
Redis emptied around a test.

Tests that use a worker need ``django_db(transaction=True)``: the worker's
thread has its own database connection and sees only committed rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from portal.celery import app as celery_app


@contextmanager
def running_worker(*, purge: bool = True) -> Iterator[None]:
    """A worker consuming the queue until the block ends: the solo pool (one
    thread), no ping check, up to 30 s to finish its task when the block ends.
    ``purge`` first drops what other tests left in the queue; pass False when
    the test has queued its own tasks already (or emptied the queue itself)."""
    if purge:
        celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.fixture
def worker() -> Iterator[None]:
    """A worker for the whole test, on a purged queue."""
    with running_worker():
        yield


@contextmanager
def emptied_broker(*lock_patterns: str) -> Iterator[redis.Redis]:
    """The test Redis with Celery's queue emptied before and after the block
    (other tests may leave messages no worker consumed), and after it the
    keys matching ``lock_patterns`` deleted (the locks the tasks took)."""
    conn = redis.Redis.from_url(settings.REDIS_URL)
    conn.delete("celery")
    yield conn
    conn.delete("celery")
    for pattern in lock_patterns:
        for key in conn.scan_iter(pattern):
            conn.delete(key)
