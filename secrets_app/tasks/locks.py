"""The one lock of the tasks: a non-blocking lock across workers, in Redis, so
that two runs of one job (a task enqueued twice, a redelivery after a worker
died, a sweep still running when the next is due) never work on the same
thing at once. The loser skips: the winner will finish the job. (And, at
the end, the claim that keeps one queued run of a job per key.)

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

import enum
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from django.conf import settings
from redis.lock import Lock

log = logging.getLogger(__name__)

KEY_PREFIX = "portal:lock:"


def redis_lock(name: str, *, timeout: float) -> Lock:
    """The Redis lock behind ``exclusive(name)``; to look at it (``.locked()``)."""
    return _client().lock(KEY_PREFIX + name, timeout=timeout, blocking=False)


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


# --- One queued run per key ---------------------------------------------------
#
# A button pressed 50 times must not queue 50 runs of the same job. Whoever
# enqueues takes a claim, ``SET key <task id> NX EX ttl``, and sends the task
# with that id only when the claim was free; the task gives the claim back as
# it starts (``release_queued``), so a request made while a run is going
# queues exactly one more, which will see what the running one has not.
#
# The claim lives in Redis beside the queue it stands for: a Redis that loses
# its data loses both together. ``ttl`` bounds a claim whose message was lost
# (a purged queue): after it, asking again queues a new run. When Redis cannot
# be reached the claim is granted, as ``exclusive`` does (the broker is the
# same Redis, so the send fails and is logged, or the demo runs it inline).

QUEUED_PREFIX = "portal:queued:"

# Delete the claim only if it is still the one this task was sent under: a
# claim taken again after the ttl belongs to the run queued then.
_RELEASE_IF_MINE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def claim_queued(name: str, token: str, *, ttl: int) -> bool:
    """Take the claim ``name`` for the run to be sent as ``token`` (its task
    id). False when a run is queued already."""
    try:
        return bool(_client().set(QUEUED_PREFIX + name, token, nx=True, ex=ttl))
    except redis.RedisError as error:
        log.warning("claim %s: Redis unavailable (%s); queueing without it", name, error)
        return True


def release_queued(name: str, token: str) -> None:
    """Give back the claim ``name`` if the run sent as ``token`` still holds it."""
    try:
        _client().eval(_RELEASE_IF_MINE, 1, QUEUED_PREFIX + name, token)
    except redis.RedisError as error:
        log.warning("claim %s: not released, Redis unavailable (%s); it expires", name, error)


class Queued(enum.StrEnum):
    """What asking for a run did."""

    QUEUED = "queued"
    ALREADY_QUEUED = "already queued"
    NOT_QUEUED = "not queued"  # the broker refused it (logged)


def send_once(task: Any, args: tuple, *, claim: str, ttl: int) -> Queued:
    """Send ``task(*args, claim=claim)`` unless a run of it holds ``claim``;
    the task calls ``release_queued(claim, its id)`` as it starts."""
    task_id = str(uuid.uuid4())
    if not claim_queued(claim, task_id, ttl=ttl):
        return Queued.ALREADY_QUEUED
    try:
        task.apply_async(args, {"claim": claim}, task_id=task_id)
    except Exception as error:  # the broker's errors vary by transport
        release_queued(claim, task_id)
        log.warning("could not enqueue %s%s: %s", task.name, args, error)
        return Queued.NOT_QUEUED
    return Queued.QUEUED
