"""Template helpers of the health pages."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import truncatechars
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

from secrets_app.health.error_text import distinctive
from secrets_app.health.selectors import is_stale
from secrets_app.web.cluster_rows import cluster_rows

register = template.Library()


@register.filter
def health_stale(binding) -> bool:
    """``{% if binding|health_stale %}``: its stored verdict cannot be trusted as current."""
    return is_stale(binding.health_status, binding.health_checked_at)


#: How each state of ``Binding.versions`` reads, and its badge colour.
VERSION_STATES = {
    "current": ("current", "health-healthy"),
    "stale-grace": ("rotated, pods catching up", "health-pending"),
    "stale": ("stale: pods run an old version", "health-degraded"),
    "unknown": ("unknown: Secrets Manager did not say", "health-unknown"),
}


@register.filter
def secret_versions(rows) -> list[dict]:
    """``Binding.versions`` for the page: dates as datetimes, the state in words."""
    shown = []
    for row in rows or []:
        words, css = VERSION_STATES.get(row.get("state"), (row.get("state"), "health-unknown"))
        shown.append(
            {
                **row,
                "words": words,
                "css": css,
                "rotated_at": parse_datetime(row["rotated_at"]) if row.get("rotated_at") else None,
                "next_rotation": (
                    parse_datetime(row["next_rotation"]) if row.get("next_rotation") else None
                ),
            }
        )
    return shown


@register.filter
def mount_error(message: str, limit: int | None = None) -> SafeString | str:
    """``{{ text|mount_error }}``: the distinctive part of a mount error
    (``health.error_text``), cut to ``limit`` characters if given, and the
    whole text folded under it when that differs."""
    if not message:
        return ""
    gist = distinctive(message)
    shown = truncatechars(gist, limit) if limit else gist
    if shown == message:
        return format_html('<span class="wrap error-gist">{}</span>', shown)
    return format_html(
        '<span class="wrap error-gist">{}</span><details class="error-whole">'
        '<summary>Whole message</summary><pre class="wrap">{}</pre></details>',
        shown,
        message,
    )


@register.simple_tag
def cluster_health_rows(clusters) -> SafeString:
    """``{% cluster_health_rows clusters %}``: the overview's rows (web/cluster_rows.py)."""
    return cluster_rows(clusters)
