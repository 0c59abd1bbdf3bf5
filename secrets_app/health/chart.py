"""A small inline SVG line chart of the health trend, built on the server.

No chart library and no script: the page stays readable without JavaScript
and within the Content-Security-Policy (colours come from portal.css classes,
not inline styles).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from secrets_app.health import selectors
from secrets_app.health.selectors import TrendPoint

#: Statuses drawn: healthy would dwarf the ones that need attention.
DRAWN = ("failing", "degraded", "unknown", "pending")
WIDTH, HEIGHT, PAD = 600, 140, 24


def trend_svg(points: list[TrendPoint], *, label: str = "Bindings needing attention") -> SafeString:
    """An ``<svg>`` with one polyline per status in ``DRAWN``."""
    known = [p for p in points if p.counts is not None]
    if not known:
        return format_html('<p class="muted">{}</p>', "No sweeps in the last 24 hours.")
    top = max(1, *(p.counts.get(s, 0) for p in known for s in DRAWN))
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)

    def xy(i: int, value: int) -> str:
        x = PAD + i * step
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top
        return f"{x:.1f},{y:.1f}"

    lines = []
    for status in DRAWN:
        coords = " ".join(
            xy(i, p.counts.get(status, 0)) for i, p in enumerate(points) if p.counts is not None
        )
        lines.append((status, coords))
    polylines = format_html_join(
        "",
        '<polyline class="trend-{}" fill="none" points="{}"><title>{}</title></polyline>',
        ((s, c, s) for s, c in lines),
    )
    latest = known[-1].counts
    summary = ", ".join(f"{latest.get(s, 0)} {s}" for s in DRAWN)
    return format_html(
        '<svg class="trend" role="img" viewBox="0 0 {w} {vh}" aria-label="{label}: now {summary}">'
        '<line class="trend-axis" x1="{p}" y1="{base}" x2="{right}" y2="{base}"/>'
        '<text class="trend-label" x="{p}" y="{top_y}">{top}</text>'
        '<text class="trend-label" x="{p}" y="{h}">24 h ago</text>'
        '<text class="trend-label" x="{right}" y="{h}" text-anchor="end">now</text>'
        "{polylines}</svg>",
        w=WIDTH,
        vh=HEIGHT,
        h=HEIGHT - 6,
        label=label,
        summary=summary,
        p=PAD,
        base=HEIGHT - PAD,
        right=WIDTH - PAD,
        top_y=PAD - 6,
        top=top,
        polylines=polylines,
    )


def trend_chart(
    cluster=None, *, newest_sweep: int, label: str = "Bindings needing attention"
) -> SafeString:
    """The 24-hour chart, cached: it changes only when a sweep lands or a
    minute passes, while every dashboard view asks for it (~40 ms to build
    from a day of sweeps of 50 clusters). The key holds the id of the newest
    sweep (the caller has it from its own query), so a new sweep shows on the
    next page view."""
    minute = int(time.time() // 60)
    # The label follows from the cluster, so it needs no place in the key.
    key = f"health-trend:{cluster.pk if cluster else 'all'}:{newest_sweep}:{minute}"
    svg = cache.get(key)
    if svg is None:
        svg = str(trend_svg(selectors.trend(cluster), label=label))
        cache.set(key, svg, timeout=120)
    return mark_safe(svg)  # noqa: S308 (trend_svg builds it with format_html)
