"""The one lock of the tasks: a non-blocking lock across workers, in Redis, so
that two runs of one job (a task enqueued twice, a redelivery after a worker
died, a sweep still running when the next is due) never work on the same
thing at once. The loser skips: the winner will finish the job.

When Redis cannot be reached, the lock is granted (with a warning in the
log) and the job runs unlocked. That is the right way round here because:

- Redis is also Celery's broker. While it is down no worker is handed a new
  task, so the only runs that can meet an unreachable lock are the demo's
  eager mode (one process, no Redis at all) and tasks already in flight when
  Redis went away (tests/faults/test_faults_redis_down.py).
- Every locked job is idempotent: a health sweep stores the latest state,
  opening pull requests finds the ones already opened, discovery updates its
  candidates, expiry reminds and revokes once (bindings/expiry.py). A rare
  overlap costs repeated work, never wrong data; refusing instead would stop
  the demo and turn every Redis blip into failed runs.

A holder that dies keeps the lock until its timeout expires
(tests/faults/test_faults_worker_killed.py): size the timeout to the longest
honest run, not much more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from redis.lock import Lock

log = logging.getLogger(__name__)

KEY_PREFIX = "portal:lock:"


def redis_lock(name: str, *, timeout: float) -> Lock:
    """The Redis lock behind ``exclusive(name)``; to look at it (``.locked()``)."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
    return client.lock(KEY_PREFIX + name, timeout=timeout, blocking=False)


@contextmanager
def exclusive(name: str, *, timeout: float) -> Iterator[bool]:
    """Yield True when this process holds ``name`` (for at most ``timeout``
    seconds) or Redis cannot be reached; False when another process holds it.
    Released on the way out, whatever the body raised."""
    lock = redis_lock(name, timeout=timeout)
    try:
        acquired = bool(lock.acquire())
    except redis.RedisError as error:
        log.warning("lock %s: Redis unavailable (%s); going on without it", name, error)
        yield True
        return
    try:
        yield acquired
    finally:
        if acquired:
            _release(lock, name)


def _release(lock: Lock, name: str) -> None:
    try:
        lock.release()
    except redis.exceptions.LockError:
        # Expired under a run that outlived its timeout: another run may hold
        # it now, and it is not ours to release.
        log.warning("lock %s expired before its holder finished", name)
    except redis.RedisError as error:
        log.warning("lock %s: not released, Redis unavailable (%s); it expires", name, error)
