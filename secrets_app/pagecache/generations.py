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
        except Exception:
            log.warning("page cache: could not bump generation %s", key, exc_info=True)


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
    except Exception:
        log.warning("page cache: generations unreadable, serving uncached", exc_info=True)
        return None
    if len(found) != len(names):
        return None
    return {n[len(PREFIX) :]: found[n] for n in names}
