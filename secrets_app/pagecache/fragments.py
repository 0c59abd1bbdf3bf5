"""``cached_fragment``: the HTML of a page's middle, cached under a key that
holds the generations of everything it reads.

What a fragment may hold: only what every user may see on that page. The
page around it (navigation, the user's name, forms with a CSRF token,
messages) is rendered for each request; a fragment that holds a CSRF token is
refused, so a mistake shows up as an error, not as one user's token served to
another. The key also holds the current minute: fragments say "3 minutes
ago" and mark stale verdicts, which move with the clock, not with the rows.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from secrets_app.observability.metrics import count_page_cache
from secrets_app.pagecache import generations, tracking
from secrets_app.pagecache.writes import ANY_TABLE

T = TypeVar("T")


def depends_on(*models: type[Model] | str) -> tuple[str, ...]:
    """Generation keys of the tables of ``models`` (or table names)."""
    tables = {m if isinstance(m, str) else m._meta.db_table for m in models}
    return tuple(sorted(generations.table_key(t) for t in tables | {ANY_TABLE}))


def query_part(request: HttpRequest, *, without: Iterable[str] = ()) -> tuple:
    """The query string's parameters in a canonical order (the same page, the
    same key), less those named in ``without``."""
    left_out = set(without)
    return tuple(sorted((k, tuple(v)) for k, v in request.GET.lists() if k not in left_out))


#: The most rows a cached page may ask for (django-tables2 takes any ``per_page``).
MAX_PER_PAGE = 100


def plain_query(request: HttpRequest, known: Iterable[str]) -> bool:
    """Whether the query string holds only parameters the page knows (and a
    ``per_page`` of at most ``MAX_PER_PAGE``): others still get their page,
    built for them, but no cache entry each (``?utm=1``, ``?utm=2``, ...
    would otherwise fill Redis)."""
    if not set(request.GET) <= set(known):
        return False
    per_page = request.GET.get("per_page", "")
    return not per_page or (per_page.isdigit() and int(per_page) <= MAX_PER_PAGE)


#: What a table's pages add to the query string.
TABLE_PARAMETERS = ("page", "sort", "per_page")


def cached_value(
    page: str,
    parts: Iterable[object],
    keys: Iterable[str],
    compute: Callable[[], T],
    *,
    cacheable: bool = True,
) -> T:
    """``compute()``, from the cache while none of ``keys`` moved this
    minute. ``parts``: what else the value depends on (the URL's arguments,
    the normalised query string). ``page`` names it in the metrics.
    ``cacheable=False``: computed, not cached (see ``plain_query``)."""
    keys = tuple(keys)
    if not (cacheable and settings.PORTAL_PAGE_CACHE) or tracking.uncommitted(keys):
        count_page_cache(page, "bypass")
        return compute()
    gens = generations.read(keys)
    if gens is None:
        count_page_cache(page, "bypass")
        return compute()
    minute = int(timezone.now().timestamp() // 60)
    # The database too: two deployments (or a demo beside tests) may share a Redis.
    database = generations.database_identity()
    identity = repr((page, tuple(parts), database, minute, sorted(gens.items())))
    key = "pagecache:frag:" + hashlib.sha256(identity.encode()).hexdigest()
    cache = caches[settings.PORTAL_PAGE_CACHE_ALIAS]
    found = None
    with contextlib.suppress(Exception):
        found = cache.get(key)
    if found is not None:
        count_page_cache(page, "hit")
        return found
    value = compute()
    # A cache that fails now serves this page uncached; nothing else to do.
    with contextlib.suppress(Exception):
        cache.set(key, value, timeout=settings.PORTAL_PAGE_CACHE_SECONDS)
    count_page_cache(page, "miss")
    return value


def cached_fragment(
    page: str,
    parts: Iterable[object],
    keys: Iterable[str],
    render: Callable[[], str],
    *,
    cacheable: bool = True,
) -> SafeString:
    """``render()``'s HTML through ``cached_value``. A fragment that holds a
    CSRF token is refused: it would be served to other users."""

    def checked() -> str:
        html = str(render())
        if "csrfmiddlewaretoken" in html:
            raise ImproperlyConfigured(
                f"The cached part of {page} holds a CSRF token: render forms that post "
                "outside cached_fragment."
            )
        return html

    return mark_safe(cached_value(page, parts, keys, checked, cacheable=cacheable))  # noqa: S308 (our templates)
