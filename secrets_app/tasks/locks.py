"""A non-blocking lock across workers, in Redis, so that two runs of one job
(a task enqueued twice, a redelivery after a worker died) never work on the
same thing at once. The loser skips: the winner will finish the job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from django.conf import settings

log = logging.getLogger(__name__)


@contextmanager
def exclusive(name: str, *, timeout: float) -> Iterator[bool]:
    """Yield True when this process holds ``name`` (for at most ``timeout``
    seconds), False when another does. Without Redis (the demo's eager mode)
    there is only one process, so the lock is granted."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    lock = client.lock(f"portal:lock:{name}", timeout=timeout, blocking=False)
    try:
        acquired = lock.acquire()
    except redis.RedisError as error:
        log.warning("lock %s: Redis unavailable (%s); going on without it", name, error)
        yield True
        return
    try:
        yield bool(acquired)
    finally:
        if acquired:
            # Expired (the job outlived its timeout) or Redis went away:
            # nothing left to release.
            with suppress(redis.RedisError):
                lock.release()
