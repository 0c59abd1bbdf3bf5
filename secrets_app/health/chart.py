"""The 24-hour trend of the dashboards: a small inline SVG line chart with a
marker on each sample, the numbers of "now" under it, and the same points as
a folded table, all built on the server.

No chart library and no script: the page stays readable without JavaScript
and within the Content-Security-Policy (colours come from portal.css classes,
not inline styles).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.formats import date_format, localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from secrets_app.health import trend as trends
from secrets_app.health.status import NEEDS_ATTENTION, SEVERITY
from secrets_app.health.trend import TrendPoint

#: Statuses drawn, worst first: healthy would dwarf the ones that need attention.
DRAWN = tuple(s.value for s in NEEDS_ATTENTION)
WIDTH, HEIGHT, PAD = 600, 140, 24
# Up to this many samples each gets a marker (a single sweep, a short
# history: a line needs two points, and two are easy to miss); beyond it a
# marker on the last sample only, where the line ends.
MARKERS_UP_TO = 12


def trend_svg(points: list[TrendPoint], *, label: str = "Bindings needing attention") -> SafeString:
    """An ``<svg>``: per status in ``DRAWN``, a polyline and markers."""
    known = [(i, p) for i, p in enumerate(points) if p.counts is not None]
    if not known:
        return format_html('<p class="muted">{}</p>', "No sweeps in the last 24 hours.")
    top = max(1, *(p.counts.get(s, 0) for _, p in known for s in DRAWN))
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)

    def x(i: int) -> float:
        return PAD + i * step

    def y(value: int) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top

    marked = known if len(known) <= MARKERS_UP_TO else known[-1:]
    series = []
    # Best first, so that where two statuses have the same count the worse
    # one's marker is drawn on top and stays visible.
    for status in reversed(DRAWN):
        coords = " ".join(f"{x(i):.1f},{y(p.counts.get(status, 0)):.1f}" for i, p in known)
        dots = format_html_join(
            "",
            '<circle class="trend-dot trend-dot-{}" cx="{}" cy="{}" r="5">'
            "<title>{} {} at {} UTC</title></circle>",
            (
                (
                    status,
                    f"{x(i):.1f}",
                    f"{y(p.counts.get(status, 0)):.1f}",
                    p.counts.get(status, 0),
                    status,
                    f"{p.at:%H:%M}",
                )
                for i, p in marked
            ),
        )
        line = (
            format_html(
                '<polyline class="trend-{}" fill="none" points="{}"><title>{}</title></polyline>',
                status,
                coords,
                status,
            )
            if len(known) > 1
            else ""
        )
        series.append(format_html("{}{}", line, dots))
    latest = known[-1][1].counts
    summary = ", ".join(f"{latest.get(s, 0)} {s}" for s in DRAWN)
    return format_html(
        '<svg class="trend" role="img" viewBox="0 0 {w} {vh}" '
        'aria-label="{label}, last 24 hours: now {summary}">'
        '<line class="trend-axis" x1="{p}" y1="{base}" x2="{right}" y2="{base}"/>'
        '<text class="trend-label" x="{p}" y="{top_y}">{top}</text>'
        '<text class="trend-label" x="{p}" y="{h}">24 h ago</text>'
        '<text class="trend-label" x="{right}" y="{h}" text-anchor="end">now</text>'
        "{series}</svg>",
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
        series=format_html_join("", "{}", ((s,) for s in series)),
    )


def trend_table(points: list[TrendPoint]) -> list[dict]:
    """The points as hourly rows (every other bucket, ending with "now"),
    counts in ``SEVERITY`` order: the chart's window and numbers, in a table."""
    rows = []
    last = len(points) - 1
    for i in range(last, -1, -2):
        p = points[i]
        if p.counts is None:
            break
        rows.append(
            {"at": p.at, "now": i == last, "counts": [p.counts.get(s, 0) for s in SEVERITY]}
        )
    return rows[::-1]


def trend_rows_html(rows: list[dict]) -> SafeString:
    """``trend_table``'s rows as the ``<tr>`` the template loop wrote (same
    bytes, tests/health_portal/test_health_trend_rows.py): 24 rows of a date
    cell and five numbers were 2 of the figure's 3 ms through the template
    engine, paid at every cache miss (each minute, per cluster and namespace).
    Dates go through the ``date`` filter's own steps (local time, then
    ``date_format``), numbers through ``localize``, both escaped."""
    out = []
    numbers: dict[int, str] = {}  # localize() is the slow part, and counts repeat
    for row in rows:
        if row["now"]:
            head = "now"
        else:
            at = template_localtime(row["at"])
            head = (
                f'<time datetime="{conditional_escape(date_format(at, "c"))}">'
                f"{conditional_escape(date_format(at, 'H:i'))}</time>"
            )
        for n in row["counts"]:
            if n not in numbers:
                numbers[n] = f"<td>{conditional_escape(localize(n))}</td>"
        counts = "".join(numbers[n] for n in row["counts"])
        out.append(f'<tr><th scope="row">{head}</th>{counts}</tr>')
    return mark_safe("".join(out))  # noqa: S308 (every value escaped above)


def trend_figure(
    points: list[TrendPoint], now: Mapping[str, int], *, label: str, swept: bool
) -> str:
    """The chart, "now" in words and the folded table, as HTML. ``points``
    ends with ``now`` (``trend.with_now``)."""
    return render_to_string(
        "secrets_app/_trend.html",
        {
            "svg": trend_svg(points, label=label),
            "now": [(s.value, now.get(s, 0)) for s in SEVERITY],
            "total": sum(now.get(s, 0) for s in SEVERITY),
            "rows_html": trend_rows_html(trend_table(points)),
            "severity": SEVERITY,
            "label": label,
            "swept": swept,
        },
    )


def trend_chart(
    cluster=None,
    *,
    namespace: str | None = None,
    newest_sweep: int,
    now: Mapping[str, int],
    label: str = "Bindings needing attention",
) -> SafeString:
    """The 24-hour trend of all clusters, one cluster, or one namespace of a
    cluster, its last point ``now`` (the page table's counts), cached: it
    changes only when a sweep lands, the counts change or a minute passes,
    while every dashboard view asks for it (~40 ms to build from a day of
    sweeps of 50 clusters). The caller has the newest sweep's id and the
    counts from its own queries, so a new sweep shows on the next view."""
    minute = int(time.time() // 60)
    counts = ",".join(str(now.get(s, 0)) for s in SEVERITY)
    # The label follows from the cluster and namespace: no place in the key.
    scope = f"{cluster.pk if cluster else 'all'}:{namespace or ''}"
    key = f"health-trend:v2:{scope}:{newest_sweep}:{counts}:{minute}"
    html = None
    # Redis down: the chart is drawn for each view instead of failing the page.
    with contextlib.suppress(Exception):
        html = cache.get(key)
    if html is None:
        if namespace is not None:
            history = trends.namespace_trend(cluster, namespace)
        else:
            history = trends.trend(cluster)
        swept = any(p.counts is not None for p in history)
        points = trends.with_now(history, now)
        html = trend_figure(points, now, label=label, swept=swept)
        with contextlib.suppress(Exception):
            cache.set(key, html, timeout=120)
    return mark_safe(html)  # noqa: S308 (built with format_html and an autoescaping template)
