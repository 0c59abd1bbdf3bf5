"""Generation numbers in the shared cache (Redis in every deployed mode): one
per table, one per cluster for a sweep's writes, and one for the whole fleet,
each under the database's identity (two deployments sharing a Redis never
share a number).

A generation only moves forward. When its key is missing (Redis restarted or
flushed) it starts again at the current time in nanoseconds, never at 1, so a
fragment cached under an old number can never be matched again.

When Redis fails (an error, or no answer within the cache's socket timeout),
this process stops asking it for ``BREAK_SECONDS`` and serves pages
uncached; the generations it could not move are moved first when Redis
answers again, before any fragment is read. (Another process that never saw
the failure may serve a fragment until its minute ends: at most 60 s.)
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger(__name__)

BREAK_SECONDS = 5.0


def table_key(table: str) -> str:
    return f"table:{table}"


def cluster_key(cluster_id: int) -> str:
    return f"cluster:{cluster_id}"


#: Bumped with every cluster's own key: what pages about the whole fleet read.
FLEET_KEY = "cluster:*"


def database_identity() -> str:
    """Host, port and name of the database: two deployments whose databases
    share a name (staging and production) on one Redis stay apart."""
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    return _identity(str(db.get("HOST") or ""), str(db.get("PORT") or ""), str(db.get("NAME")))


@functools.lru_cache(maxsize=8)
def _identity(host: str, port: str, name: str) -> str:
    return hashlib.sha256(f"{host}:{port}/{name}".encode()).hexdigest()[:16]


def redis_key(key: str) -> str:
    return f"pagecache:gen:{database_identity()}:{key}"


class _Breaker:
    """This process's view of Redis: when it may be asked again, and the
    generations a failure kept it from moving."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.unmoved: set[str] = set()

    def down(self) -> bool:
        return time.monotonic() < self.down_until

    def trip(self, unmoved: Iterable[str], error: Exception) -> None:
        self.down_until = time.monotonic() + BREAK_SECONDS
        self.unmoved.update(unmoved)
        _warn_once(f"page cache: Redis failed, pages served uncached for a while: {error}")


_breaker = _Breaker()


def _reset(*, setting: str, **kwargs) -> None:
    # Tests point CACHES elsewhere and back: the new cache may answer. The
    # generations not moved yet still have to be (moving more is harmless).
    if setting == "CACHES":
        _breaker.down_until = 0.0


setting_changed.connect(_reset, dispatch_uid="pagecache-generations-reset")


def _cache():
    return caches[settings.PORTAL_PAGE_CACHE_ALIAS]


def _fresh_start() -> int:
    return time.time_ns()


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A cache that is down (the demo without Redis) would otherwise log on
    every page: once per process and kind is enough to act on."""
    kind = message.split(":")[1]
    if kind not in _warned:
        _warned.add(kind)
        log.warning(message)


def bump(keys: Iterable[str]) -> None:
    """Move each generation on. Never raises: a write is committed already.
    What cannot be moved now is moved before this process reads again."""
    keys = list(keys)
    if _breaker.down():
        _breaker.unmoved.update(keys)
        return
    cache = _cache()
    for i, key in enumerate(keys):
        name = redis_key(key)
        try:
            try:
                cache.incr(name)
            except ValueError:  # missing: start past every number it ever had
                if not cache.add(name, _fresh_start(), timeout=None):
                    cache.incr(name)
        except Exception as error:
            _breaker.trip(keys[i:], error)
            return


def read(keys: Iterable[str]) -> dict[str, int] | None:
    """The current generation of each key (one round trip when all exist),
    or None when the cache cannot be read (then: serve uncached)."""
    if _breaker.down():
        return None
    if _breaker.unmoved:
        unmoved, _breaker.unmoved = _breaker.unmoved, set()
        bump(unmoved)
        if _breaker.unmoved:
            return None
    cache = _cache()
    keys = list(dict.fromkeys(keys))
    names = [redis_key(k) for k in keys]
    try:
        found = cache.get_many(names)
        missing = [n for n in names if n not in found]
        for name in missing:
            cache.add(name, _fresh_start(), timeout=None)
        if missing:
            found.update(cache.get_many(missing))
    except Exception as error:
        _breaker.trip((), error)
        return None
    if len(found) != len(names):
        return None
    return {k: found[n] for k, n in zip(keys, names, strict=True)}
