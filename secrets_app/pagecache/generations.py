"""Generation numbers in the shared cache (Redis in every deployed mode): one
per table, one per cluster for a sweep's writes, and one for the whole fleet.

A generation only moves forward. When its key is missing (Redis restarted or
flushed) it starts again at the current time in nanoseconds, never at 1, so a
fragment cached under an old number can never be matched again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)

PREFIX = "pagecache:gen:"


def table_key(table: str) -> str:
    return f"table:{table}"


def cluster_key(cluster_id: int) -> str:
    return f"cluster:{cluster_id}"


#: Bumped with every cluster's own key: what pages about the whole fleet read.
FLEET_KEY = "cluster:*"


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
    """Move each generation on. Never raises: a write is committed already,
    and a cache that is down serves no fragments either (``read`` fails too)."""
    cache = _cache()
    for key in keys:
        try:
            try:
                cache.incr(PREFIX + key)
            except ValueError:  # missing: start past every number it ever had
                if not cache.add(PREFIX + key, _fresh_start(), timeout=None):
                    cache.incr(PREFIX + key)
        except Exception as error:
            _warn_once(f"page cache: could not move generations: {error}")


def read(keys: Iterable[str]) -> dict[str, int] | None:
    """The current generation of each key (one round trip when all exist),
    or None when the cache cannot be read."""
    cache = _cache()
    names = list(dict.fromkeys(PREFIX + k for k in keys))
    try:
        found = cache.get_many(names)
        missing = [n for n in names if n not in found]
        for name in missing:
            cache.add(name, _fresh_start(), timeout=None)
        if missing:
            found.update(cache.get_many(missing))
    except Exception as error:
        _warn_once(f"page cache: generations unreadable, pages served uncached: {error}")
        return None
    if len(found) != len(names):
        return None
    return {n[len(PREFIX) :]: found[n] for n in names}
